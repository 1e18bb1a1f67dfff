import { runService } from '@shop/platform';
import { couponService } from './service.ts';

await runService(couponService);
