import { hostname } from 'node:os';
import { baseConfigSchema, createRedis, type ServiceDefinition, TokenBuckets } from '@shop/platform';
import { z } from 'zod';
import { type ClaimDecision, couponQuotaActor } from './actors/coupon-quota.actor.ts';
import { CouponDefinitions } from './coupons/coupons.ts';
import { couponEntities } from './db/entities.ts';
import { migrations } from './db/migrations.ts';
import { COUPON_QUOTA_ACTOR } from './events/topics.ts';
import { IssueWorker } from './issuance/issue-worker.ts';
import { defineRequestGauges } from './issuance/request-metrics.ts';
import { IssueIntake, RequestStatusCache } from './issuance/requests.ts';
import { couponsRoutes } from './routes/coupons.router.ts';
import { userRegisteredHandler } from './users/user-registered.handler.ts';

export const couponConfigSchema = baseConfigSchema.extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Prefix of this service's Redis keys (tests give each instance its own). */
  REDIS_KEY_PREFIX: z.string().default(''),
  /**
   * Batches of coupon requests one replica decides at once. Each holds at
   * most one database connection, never while it waits on the quota actor;
   * two let one batch be taken and recorded while another is at the actor.
   */
  ISSUE_WORKER_CONCURRENCY: z.coerce.number().int().positive().default(2),
  /** Requests one batch takes at most (one actor turn, one transaction). */
  ISSUE_BATCH_SIZE: z.coerce.number().int().positive().max(1000).default(200),
  /** How long a worker holds a batch before any replica may take it again (several actor call timeouts). */
  ISSUE_LEASE_MS: z.coerce.number().int().positive().default(15_000),
  /** How often each replica looks for requests without being woken (another replica's, a dead worker's). */
  ISSUE_SWEEP_MS: z.coerce.number().int().positive().default(500),
  /** Group commit of POST /coupons/:id/issue: how long the first request waits for others, in ms. */
  ISSUE_INTAKE_WINDOW_MS: z.coerce.number().int().min(0).default(2),
  /** ... and the most requests one insert writes. */
  ISSUE_INTAKE_MAX_BATCH: z.coerce.number().int().positive().default(500),
  /** Coupon requests a user may send a second (and at once), per replica; past it, 429. */
  ISSUE_RATE_PER_USER: z.coerce.number().int().positive().default(5),
});

export const couponService: ServiceDefinition<typeof couponConfigSchema> = {
  configSchema: couponConfigSchema,
  entities: couponEntities,
  migrations,
  build: ({ config, orm, sidecar, log, outboxWritten }) => {
    defineRequestGauges(orm.em);
    const redis = createRedis(config.REDIS_URL, log, config.REDIS_KEY_PREFIX);
    const statuses = new RequestStatusCache(redis);
    const coupons = new CouponDefinitions();
    const worker = new IssueWorker(
      {
        em: orm.em,
        statuses,
        coupons,
        claimQuota: async (couponId, batch) =>
          (
            await sidecar.invokeActor<{ decisions: ClaimDecision[] }>(
              COUPON_QUOTA_ACTOR,
              couponId,
              'claimBatch',
              batch,
            )
          ).decisions,
        outboxWritten,
        log: log.child({ component: 'issue-worker' }),
      },
      {
        workerId: `${hostname()}:${config.PORT}`,
        batchSize: config.ISSUE_BATCH_SIZE,
        concurrency: config.ISSUE_WORKER_CONCURRENCY,
        leaseMs: config.ISSUE_LEASE_MS,
        pollMs: config.ISSUE_SWEEP_MS,
      },
    );
    const intake = new IssueIntake(
      {
        em: orm.em,
        coupons,
        perUser: new TokenBuckets(config.ISSUE_RATE_PER_USER, config.ISSUE_RATE_PER_USER),
        accepted: () => worker.wake(),
      },
      { windowMs: config.ISSUE_INTAKE_WINDOW_MS, maxBatch: config.ISSUE_INTAKE_MAX_BATCH },
    );
    return {
      routes: [couponsRoutes({ em: orm.em, intake, statuses, outboxWritten })],
      eventHandlers: [userRegisteredHandler],
      actors: [couponQuotaActor],
      readiness: { redis: () => redis.ping() },
      onStarted: () => worker.start(),
      onStopping: async () => {
        await worker.stop();
        await redis.quit();
      },
    };
  },
};
