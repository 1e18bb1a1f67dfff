import { runMigrations } from '@shop/platform';
import { productService } from './service.ts';

await runMigrations(productService);
