import { baseConfigSchema, createRedis, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { type ClaimDecision, couponQuotaActor } from './actors/coupon-quota.actor.ts';
import { migrations } from './db/migrations.ts';
import { COUPON_QUOTA_ACTOR } from './events/topics.ts';
import { issueRequestedHandler } from './issuance/issue-requested.handler.ts';
import { IssueWorker } from './issuance/issue-worker.ts';
import { defineRequestGauges } from './issuance/request-metrics.ts';
import { RequestStatusCache } from './issuance/requests.ts';
import { couponsRouter } from './routes/coupons.router.ts';
import { userRegisteredHandler } from './users/user-registered.handler.ts';

export const couponConfigSchema = baseConfigSchema.extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Prefix of this service's Redis keys (tests give each instance its own). */
  REDIS_KEY_PREFIX: z.string().default(''),
  /**
   * Coupon requests one replica decides at once. Each holds at most one
   * database connection, never while it waits on the quota actor, so 4 leave
   * 4 of the pool (DATABASE_POOL_MAX, 8) to the API, the inbox and the outbox
   * relay; the actor serialises claims per coupon anyway.
   */
  ISSUE_WORKER_CONCURRENCY: z.coerce.number().int().positive().default(4),
  /** How long a worker holds a request before any replica may take it again (several actor call timeouts). */
  ISSUE_LEASE_MS: z.coerce.number().int().positive().default(15_000),
  /** How often each replica looks for requests left behind (a dead worker, a failed attempt). */
  ISSUE_SWEEP_MS: z.coerce.number().int().positive().default(2_000),
});

export const couponService: ServiceDefinition<typeof couponConfigSchema> = {
  configSchema: couponConfigSchema,
  migrations,
  build: ({ config, orm, sidecar, log, outboxWritten }) => {
    defineRequestGauges(orm.em);
    const redis = createRedis(config.REDIS_URL, log, config.REDIS_KEY_PREFIX);
    const statuses = new RequestStatusCache(redis);
    const worker = new IssueWorker(
      {
        em: orm.em,
        statuses,
        claimQuota: (couponId, claim) =>
          sidecar.invokeActor<ClaimDecision>(COUPON_QUOTA_ACTOR, couponId, 'claim', claim),
        outboxWritten,
        log: log.child({ component: 'issue-worker' }),
      },
      {
        concurrency: config.ISSUE_WORKER_CONCURRENCY,
        leaseMs: config.ISSUE_LEASE_MS,
        sweepMs: config.ISSUE_SWEEP_MS,
      },
    );
    return {
      routers: [couponsRouter({ em: orm.em, redis, statuses, outboxWritten })],
      eventHandlers: [userRegisteredHandler, issueRequestedHandler(worker)],
      actors: [couponQuotaActor],
      readiness: { redis: () => redis.ping() },
      onStarted: async () => worker.start(),
      onStopping: async () => {
        await worker.stop();
        await redis.quit();
      },
    };
  },
};
