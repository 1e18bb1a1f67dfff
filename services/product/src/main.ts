import { runService } from '@shop/platform';
import { productService } from './service.ts';

await runService(productService);
