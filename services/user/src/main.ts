import { runService } from '@shop/platform';
import { userService } from './service.ts';

await runService(userService);
