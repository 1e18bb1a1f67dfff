import { runService } from '@shop/platform';
import { gatewayService } from './service.ts';

await runService(gatewayService);
