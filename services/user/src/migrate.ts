import { runMigrations } from '@shop/platform';
import { userService } from './service.ts';

await runMigrations(userService);
