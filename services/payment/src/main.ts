import { runService } from '@shop/platform';
import { paymentService } from './service.ts';

await runService(paymentService);
