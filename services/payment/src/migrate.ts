import { runMigrations } from '@shop/platform';
import { paymentService } from './service.ts';

await runMigrations(paymentService);
