import { runStatelessService } from '@shop/platform';
import { gatewayService } from './service.ts';

await runStatelessService(gatewayService);
