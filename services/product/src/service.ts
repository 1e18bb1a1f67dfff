import { baseConfigSchema, createRedis, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { cartOrderCompletedHandler } from './cart/order-completed.handler.ts';
import { productEntities } from './db/entities.ts';
import { migrations } from './db/migrations.ts';
import { seedCatalog } from './db/seed.ts';
import { Products } from './products/products.ts';
import { orderCompletedHandler } from './ranking/order-completed.handler.ts';
import { cartRoutes } from './routes/cart.router.ts';
import { productsRoutes } from './routes/products.router.ts';

export const productConfigSchema = baseConfigSchema.extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Prefix of this service's Redis keys (tests give each instance its own). */
  REDIS_KEY_PREFIX: z.string().default(''),
});

export const productService: ServiceDefinition<typeof productConfigSchema> = {
  configSchema: productConfigSchema,
  entities: productEntities,
  migrations,
  seed: seedCatalog,
  build: ({ config, orm, log, outboxWritten }) => {
    const redis = createRedis(config.REDIS_URL, log, config.REDIS_KEY_PREFIX);
    const products = new Products(orm.em, redis, outboxWritten);
    return {
      routes: [productsRoutes(orm.em, redis, products, outboxWritten), cartRoutes(orm.em)],
      eventHandlers: [orderCompletedHandler(redis), cartOrderCompletedHandler()],
      readiness: { redis: () => redis.ping() },
      onStopping: async () => {
        await redis.quit();
      },
    };
  },
};
