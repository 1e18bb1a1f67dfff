import { runMigrations } from '@shop/platform';
import { orderService } from './service.ts';

await runMigrations(orderService);
