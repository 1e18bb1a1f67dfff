import { runMigrations } from '@shop/platform';
import { couponService } from './service.ts';

await runMigrations(couponService);
