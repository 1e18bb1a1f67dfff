import { runService } from '@shop/platform';
import { orderService } from './service.ts';

await runService(orderService);
