import { baseConfigSchema, createRedis, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { couponQuotaActor } from './actors/coupon-quota.actor.ts';
import { migrations } from './db/migrations.ts';
import { issueRequestedHandler } from './issuance/issue-requested.handler.ts';
import { RequestStatusCache } from './issuance/requests.ts';
import { couponsRouter } from './routes/coupons.router.ts';
import { userRegisteredHandler } from './users/user-registered.handler.ts';

export const couponConfigSchema = baseConfigSchema.extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Prefix of this service's Redis keys (tests give each instance its own). */
  REDIS_KEY_PREFIX: z.string().default(''),
});

export const couponService: ServiceDefinition<typeof couponConfigSchema> = {
  configSchema: couponConfigSchema,
  migrations,
  build: ({ config, orm, sidecar, log, outboxWritten }) => {
    const redis = createRedis(config.REDIS_URL, log, config.REDIS_KEY_PREFIX);
    const statuses = new RequestStatusCache(redis);
    return {
      routers: [couponsRouter({ em: orm.em, redis, statuses, outboxWritten })],
      eventHandlers: [userRegisteredHandler, issueRequestedHandler({ sidecar, statuses })],
      actors: [couponQuotaActor],
      readiness: { redis: () => redis.ping() },
      onStopping: async () => {
        await redis.quit();
      },
    };
  },
};
