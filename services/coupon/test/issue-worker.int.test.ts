import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ActorContext, createLogger, createRedis, DaprSidecar, type Redis } from '@shop/platform';
import { eventually, type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { type ClaimDecision, couponQuotaActor } from '../src/actors/coupon-quota.actor.ts';
import { CouponDefinitions } from '../src/coupons/coupons.ts';
import { COUPON_QUOTA_ACTOR } from '../src/events/topics.ts';
import { IssueWorker } from '../src/issuance/issue-worker.ts';
import { RequestStatusCache } from '../src/issuance/requests.ts';
import { couponService } from '../src/service.ts';

/**
 * The worker against real Postgres and Redis. The quota actor runs its real
 * code behind a stand-in for the sidecar's actor API, which can look at the
 * database while a claim is in flight and can lose an answer. The service's
 * own worker is not started here: each test takes batches with workers of its
 * own (`replica()`), as the replicas of the service would.
 */
const actorStates = new Map<string, Map<string, unknown>>();
const fakeActor = {
  calls: 0,
  /** Runs once, before the next batch of claims is decided. */
  before: undefined as undefined | ((batch: { claims: { requestId: string }[] }) => Promise<void>),
  /** The next claim is decided and saved, then answered 500 (the answer is lost). */
  loseNextAnswer: false,
  /** Says yes to every claim, as two overlapping activations of one actor could. */
  acceptAll: false,
};

function actorOn(id: string): ActorContext {
  const state = actorStates.get(id) ?? new Map<string, unknown>();
  actorStates.set(id, state);
  return {
    actorType: COUPON_QUOTA_ACTOR,
    actorId: id,
    sidecar: undefined as never,
    log: undefined as never,
    getState: async <T>(key: string) => state.get(key) as T | undefined,
    setState: async (values) => {
      for (const [key, value] of Object.entries(values)) state.set(key, value);
    },
  };
}

const sidecarStandIn: Server = createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => (raw += chunk));
  req.on('end', async () => {
    const match = /^\/v1\.0\/actors\/CouponQuotaActor\/([\w-]+)\/method\/(\w+)$/.exec(req.url ?? '');
    if (req.method !== 'PUT' || !match) return res.writeHead(404).end();
    const body = raw ? JSON.parse(raw) : {};
    fakeActor.calls += 1;
    const before = fakeActor.before;
    fakeActor.before = undefined;
    await before?.(body);
    const result = fakeActor.acceptAll
      ? { decisions: body.claims.map(() => ({ accepted: true })) }
      : await couponQuotaActor.methods[match[2]!]!(actorOn(match[1]!), body);
    if (fakeActor.loseNextAnswer) {
      fakeActor.loseNextAnswer = false;
      return res.writeHead(500).end('connection reset');
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  });
});

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;
let redis: Redis;
let statuses: RequestStatusCache;
let port: number;
const log = createLogger('coupon-worker-test', 'silent');

beforeAll(async () => {
  await new Promise<void>((resolve) => sidecarStandIn.listen(0, '127.0.0.1', resolve));
  port = (sidecarStandIn.address() as { port: number }).port;
  const prefix = `test-${randomUUID()}:`;
  svc = await startServiceUnderTest('coupon_worker', couponService, {
    REDIS_URL: process.env.SHOP_TEST_REDIS_URL!,
    REDIS_KEY_PREFIX: prefix,
    DAPR_HTTP_PORT: String(port),
  });
  http = request(svc.app.callback());
  redis = createRedis(process.env.SHOP_TEST_REDIS_URL!, log, prefix);
  statuses = new RequestStatusCache(redis);
});
afterAll(async () => {
  await svc.close();
  await redis.quit();
  await new Promise((resolve) => sidecarStandIn.close(resolve));
});

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
  svc.orm.em.fork().execute<T[]>(query, params);
const hour = 3_600_000;

/** A replica's worker on the same database and Redis, which takes a batch only when told to (`sweep`). */
function replica(leaseMs = 15_000, workerId = `test-${randomUUID()}`): IssueWorker {
  const sidecar = new DaprSidecar({
    host: '127.0.0.1',
    httpPort: port,
    pubsubName: 'p',
  });
  return new IssueWorker(
    {
      em: svc.orm.em,
      statuses,
      coupons: new CouponDefinitions(),
      claimQuota: async (couponId, batch) =>
        (
          await sidecar.invokeActor<{ decisions: ClaimDecision[] }>(
            COUPON_QUOTA_ACTOR,
            couponId,
            'claimBatch',
            batch,
          )
        ).decisions,
      outboxWritten: () => undefined,
      log,
    },
    { workerId, batchSize: 200, concurrency: 2, leaseMs, pollMs: hour },
  );
}

async function newCoupon(quota = 5): Promise<string> {
  const res = await http.post('/coupons').send({
    name: 'Worker test',
    discountType: 'FIXED',
    discountValue: 1000,
    quota,
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** An accepted request (202), with its user known to the service. */
async function accepted(couponId: string): Promise<{ requestId: string; userId: string }> {
  const userId = randomUUID();
  await sql("insert into known_users (user_id, registered_at, source_event_id) values (?, now(), 'test')", [
    userId,
  ]);
  const res = await http.post(`/coupons/${couponId}/issue`).send({ userId });
  expect(res.status).toBe(202);
  return { requestId: res.body.requestId, userId };
}

const stored = async (requestId: string) =>
  (await sql<{ status: string }>('select status from issue_requests where id = ?', [requestId]))[0]?.status;
const shown = async (requestId: string) => (await http.get(`/coupon-requests/${requestId}`)).body.status;
const final = (requestId: string) =>
  eventually(`request ${requestId} to be decided`, async () => {
    const status = await stored(requestId);
    return status === 'COMPLETED' || status === 'REJECTED' ? status : undefined;
  });
const issuedRows = (requestId: string) => sql('select * from user_coupons where request_id = ?', [requestId]);
const issuedEvents = (requestId: string) =>
  sql("select * from outbox where subject = ? and event_type = 'CouponIssued'", [requestId]);

describe('the issue worker', () => {
  test('When it asks the quota actor, then it holds no transaction or row lock, and clients see only what Postgres committed', async () => {
    const couponId = await newCoupon();
    const { requestId } = await accepted(couponId);
    let during: Record<string, unknown> | undefined;
    fakeActor.before = async () => {
      const locked = await svc.orm.em
        .fork()
        .transactional((tx) =>
          tx.execute('select id from issue_requests where id = ? for update nowait', [requestId]),
        )
        .then(
          () => false,
          () => true,
        );
      const [open] = await sql<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'",
      );
      during = {
        locked,
        openTransactions: open!.n,
        stored: await stored(requestId),
        shown: await shown(requestId),
      };
    };
    await replica().sweep();

    expect(await final(requestId)).toBe('COMPLETED');
    expect(during).toEqual({ locked: false, openTransactions: 0, stored: 'PROCESSING', shown: 'PROCESSING' });
    expect(await shown(requestId)).toBe('COMPLETED');
    expect(await issuedRows(requestId)).toHaveLength(1);
  });

  test('When the actor decided but its answer was lost, then the request shows no decision until a retry completes it, once', async () => {
    const couponId = await newCoupon(1);
    const { requestId } = await accepted(couponId);
    fakeActor.loseNextAnswer = true;
    await expect(replica().sweep()).rejects.toThrow();
    // The failed attempt gave its lease back.
    const [row] = await sql<{ status: string; free: boolean }>(
      'select status, lease_until <= now() as free from issue_requests where id = ?',
      [requestId],
    );
    expect(row).toEqual({ status: 'PROCESSING', free: true });
    expect(await shown(requestId)).toBe('PROCESSING');

    expect(await replica().sweep()).toBeGreaterThan(0);
    expect(await final(requestId)).toBe('COMPLETED');
    expect(await issuedRows(requestId)).toHaveLength(1);
    expect(await issuedEvents(requestId)).toHaveLength(1);
    expect(await couponQuotaActor.methods.status!(actorOn(couponId), {})).toEqual({ quota: 1, issued: 1 });
  });

  test('When a worker died holding a request, or the replica that accepted one died before taking it, then another replica decides it; a live lease is left alone', async () => {
    const couponId = await newCoupon();
    const neverTaken = await accepted(couponId);
    const deadWorker = await accepted(couponId);
    const busy = await accepted(couponId);
    await sql(
      "update issue_requests set status = 'PROCESSING', lease_until = now() - interval '1 second' where id = ?",
      [deadWorker.requestId],
    );
    await sql(
      "update issue_requests set status = 'PROCESSING', lease_until = now() + interval '1 hour' where id = ?",
      [busy.requestId],
    );

    await replica(10_000).sweep();
    expect(await final(neverTaken.requestId)).toBe('COMPLETED');
    expect(await final(deadWorker.requestId)).toBe('COMPLETED');
    expect(await stored(busy.requestId)).toBe('PROCESSING');
  });

  test('When a replica restarts after a crash, then it takes back at once what it held, without waiting for the lease', async () => {
    const couponId = await newCoupon();
    const { requestId } = await accepted(couponId);
    // What the replica held when it was killed: a lease with an hour to go.
    await sql(
      "update issue_requests set status = 'PROCESSING', taken_by = 'host-a:3103', lease_until = now() + interval '1 hour' where id = ?",
      [requestId],
    );
    const restarted = replica(15_000, 'host-a:3103');
    await restarted.start();
    try {
      expect(await final(requestId)).toBe('COMPLETED');
    } finally {
      await restarted.stop();
    }
  });

  test('When a slow worker finishes a request another replica already decided, then it is issued once', async () => {
    const couponId = await newCoupon();
    const { requestId } = await accepted(couponId);
    fakeActor.before = async () => {
      // This worker stalls past its lease; another replica takes the request over and decides it.
      await sql("update issue_requests set lease_until = now() - interval '1 second' where id = ?", [
        requestId,
      ]);
      await replica().sweep();
      await final(requestId);
    };
    const callsBefore = fakeActor.calls;
    await replica().sweep();
    await eventually('both workers to have asked the actor', async () => fakeActor.calls === callsBefore + 2);
    await eventually('the slow worker to be done', async () => (await shown(requestId)) === 'COMPLETED');

    expect(await stored(requestId)).toBe('COMPLETED');
    expect(await issuedRows(requestId)).toHaveLength(1);
    expect(await issuedEvents(requestId)).toHaveLength(1);
  });
});

describe('batches', () => {
  test('When many requests wait, then one batch decides them with one actor turn, first come first served', async () => {
    const couponId = await newCoupon(3);
    const asks: { requestId: string; userId: string }[] = [];
    for (let i = 0; i < 8; i++) asks.push(await accepted(couponId));
    // The same user again, after the others: refused as a second coupon, whatever the quota.
    const again = await http.post(`/coupons/${couponId}/issue`).send({ userId: asks[0]!.userId });
    expect(again.status).toBe(202);
    const callsBefore = fakeActor.calls;

    expect(await replica().sweep()).toBe(9);
    expect(fakeActor.calls).toBe(callsBefore + 1);
    const decided = await Promise.all(
      [...asks.map((a) => a.requestId), again.body.requestId].map(async (id) => {
        const { body } = await http.get(`/coupon-requests/${id}`);
        return `${body.status}${body.reason ? ` ${body.reason}` : ''}`;
      }),
    );
    expect(decided).toEqual([
      ...['COMPLETED', 'COMPLETED', 'COMPLETED'],
      ...Array.from({ length: 5 }, () => 'REJECTED SOLD_OUT'),
      'REJECTED ALREADY_ISSUED',
    ]);
    const holders = await sql<{ user_id: string }>('select user_id from user_coupons where coupon_id = ?', [
      couponId,
    ]);
    expect(holders.map((h) => h.user_id).sort()).toEqual(
      asks
        .slice(0, 3)
        .map((a) => a.userId)
        .sort(),
    );
  });
});

describe('the quota in Postgres', () => {
  test('When the actor says yes past the quota (two activations overlapping while placement moves it), then Postgres still issues only the quota', async () => {
    const couponId = await newCoupon(1);
    const asks = [await accepted(couponId), await accepted(couponId)];
    fakeActor.acceptAll = true;
    try {
      await replica().sweep();
      expect((await Promise.all(asks.map((a) => final(a.requestId)))).sort()).toEqual([
        'COMPLETED',
        'REJECTED',
      ]);
    } finally {
      fakeActor.acceptAll = false;
    }
    expect(await sql('select * from user_coupons where coupon_id = ?', [couponId])).toHaveLength(1);
    const shownAll = await Promise.all(
      asks.map(async (a) => (await http.get(`/coupon-requests/${a.requestId}`)).body),
    );
    expect(shownAll.map((r) => r.reason).sort()).toEqual(['SOLD_OUT', null]);
  });
});

describe('request statuses in Redis', () => {
  test('When a late write of an earlier status comes after the decision, then clients still see the decision', async () => {
    const couponId = await newCoupon();
    const { requestId, userId } = await accepted(couponId);
    await replica().sweep();
    await final(requestId);
    await statuses.put({
      requestId,
      couponId,
      userId,
      status: 'PROCESSING',
      reason: null,
      updatedAt: new Date().toISOString(),
    });
    expect(await shown(requestId)).toBe('COMPLETED');
  });

  test('When a worker died between its commit and its Redis write, then the status is soon read from Postgres again', async () => {
    const couponId = await newCoupon();
    const { requestId, userId } = await accepted(couponId);
    await replica().sweep();
    await final(requestId);
    // What Redis holds when the worker cached PROCESSING, committed its decision and died.
    await redis.del(`coupon-request:${requestId}`);
    await statuses.put({ requestId, couponId, userId, status: 'PROCESSING', reason: null, updatedAt: '' });
    expect(await shown(requestId)).toBe('PROCESSING');
    await eventually(
      'the committed decision to be shown',
      async () => (await shown(requestId)) === 'COMPLETED',
    );
  });
});
