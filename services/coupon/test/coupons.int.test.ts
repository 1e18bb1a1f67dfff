import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLogger, createRedis, problemTypeUri, type Redis, uuidv7 } from '@shop/platform';
import { eventually, type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { CouponDefinitions } from '../src/coupons/coupons.ts';
import { IssueWorker } from '../src/issuance/issue-worker.ts';
import { RequestStatusCache } from '../src/issuance/requests.ts';
import { couponService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;
let redis: Redis;

beforeAll(async () => {
  svc = await startServiceUnderTest('coupon', couponService, { REDIS_URL: process.env.SHOP_TEST_REDIS_URL! });
  http = request(svc.app.callback());
  redis = createRedis(process.env.SHOP_TEST_REDIS_URL!, createLogger('coupon-test', 'silent'));
});
afterAll(async () => {
  await svc.close();
  await redis.quit();
});

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
  svc.orm.em.fork().execute<T[]>(query, params);
const hour = 3_600_000;

async function newCoupon(overrides: Record<string, unknown> = {}) {
  const res = await http.post('/coupons').send({
    name: 'Welcome 5000',
    discountType: 'FIXED',
    discountValue: 5000,
    quota: 100,
    minOrderAmount: 20_000,
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
    ...overrides,
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function knownUser(): Promise<string> {
  const userId = randomUUID();
  await sql("insert into known_users (user_id, registered_at, source_event_id) values (?, now(), 'test')", [
    userId,
  ]);
  return userId;
}

/** Gives a coupon to a user the way the worker does, for the use/restore rules. */
async function issued(couponId: string, userId: string): Promise<void> {
  const requestId = uuidv7();
  await sql("insert into issue_requests (id, coupon_id, user_id, status) values (?, ?, ?, 'COMPLETED')", [
    requestId,
    couponId,
    userId,
  ]);
  await sql(
    "insert into user_coupons (id, coupon_id, user_id, request_id, status) values (?, ?, ?, ?, 'ISSUED')",
    [uuidv7(), couponId, userId, requestId],
  );
}

describe('coupon definitions', () => {
  test('When a coupon is created, then it can be read back', async () => {
    const coupon = await newCoupon({ discountType: 'PERCENT', discountValue: 10, maxDiscount: 3000 });
    expect((await http.get(`/coupons/${coupon.id}`)).body).toEqual(coupon);
  });

  test('When a time is in the year 0, which Postgres does not have, then it is a 422, not a 500', async () => {
    const res = await http.post('/coupons').send({
      name: 'x',
      discountType: 'FIXED',
      discountValue: 1,
      quota: 1,
      startsAt: '0000-01-01T00:00:00Z',
      endsAt: '2026-12-01T00:00:00Z',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.startsAt']);
  });

  test('When the definition is wrong, then it is a 422 naming each field', async () => {
    const res = await http.post('/coupons').send({
      name: 'x',
      discountType: 'PERCENT',
      discountValue: 150,
      quota: 1,
      startsAt: '2026-12-02T00:00:00Z',
      endsAt: '2026-12-01T00:00:00Z',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.discountValue',
      'body.endsAt',
    ]);
    const quota = await http
      .post('/coupons')
      .send({ name: 'x', discountType: 'FIXED', discountValue: 1, quota: -1 });
    expect(quota.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.endsAt',
      'body.quota',
      'body.startsAt',
    ]);
  });
});

describe('GET /coupons', () => {
  test('When coupons are open, coming or ended, then the list shows the open and coming ones, newest first, with their seats taken', async () => {
    const open = await newCoupon({ name: 'Open now', quota: 3 });
    const coming = await newCoupon({
      name: 'Drop at noon',
      startsAt: new Date(Date.now() + hour).toISOString(),
      endsAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    const ended = await newCoupon({
      name: 'Over',
      startsAt: new Date(Date.now() - 2 * hour).toISOString(),
      endsAt: new Date(Date.now() - hour).toISOString(),
    });
    await issued(open.id, await knownUser());
    await sql('update coupons set issued = 1 where id = ?', [open.id]);

    const res = await http.get('/coupons');
    expect(res.status).toBe(200);
    const listed = res.body.items.filter((c: { id: string }) =>
      [open.id, coming.id, ended.id].includes(c.id),
    );
    expect(listed).toEqual([
      { ...coming, issued: 0, window: 'NOT_STARTED' },
      { ...open, issued: 1, window: 'OPEN' },
    ]);
  });
});

describe('POST /coupons/:id/issue', () => {
  test('When a known user asks, then it is 202 QUEUED at once, and recorded in Postgres before the answer', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    const res = await http.post(`/coupons/${coupon.id}/issue`).send({ userId });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ requestId: expect.any(String), status: 'QUEUED' });
    expect(await sql('select status from issue_requests where id = ?', [res.body.requestId])).toEqual([
      { status: 'QUEUED' },
    ]);
    expect((await http.get(`/coupon-requests/${res.body.requestId}`)).body).toMatchObject({
      requestId: res.body.requestId,
      couponId: coupon.id,
      userId,
      status: 'QUEUED',
    });
  });

  test('When the coupon or the user is unknown, or the body is wrong, then it is a clear 4xx', async () => {
    const coupon = await newCoupon();
    expect(
      (await http.post(`/coupons/${randomUUID()}/issue`).send({ userId: await knownUser() })).status,
    ).toBe(404);
    const unknownUser = await http.post(`/coupons/${coupon.id}/issue`).send({ userId: randomUUID() });
    expect(unknownUser.status).toBe(422);
    expect(unknownUser.body.errors).toEqual([{ field: 'body.userId', message: 'no such user' }]);
    expect((await http.post(`/coupons/${coupon.id}/issue`).send({ user: 'me' })).status).toBe(422);
    expect(
      (await http.post(`/coupons/${coupon.id}/issue`).set('content-type', 'application/json').send('{'))
        .status,
    ).toBe(400);
    expect((await http.get(`/coupon-requests/${randomUUID()}`)).status).toBe(404);
  });

  test('When known and unknown users ask at the same moment (one group commit), then each gets its own answer', async () => {
    const coupon = await newCoupon();
    const known = await Promise.all(Array.from({ length: 30 }, () => knownUser()));
    const unknown: string[] = Array.from({ length: 5 }, () => randomUUID());
    const asks = [...known, ...unknown].sort();
    const answers = await Promise.all(
      asks.map((userId) => http.post(`/coupons/${coupon.id}/issue`).send({ userId })),
    );
    expect(answers.map((a) => a.status)).toEqual(asks.map((u) => (unknown.includes(u) ? 422 : 202)));
    const recorded = await sql<{ user_id: string }>(
      'select user_id from issue_requests where coupon_id = ?',
      [coupon.id],
    );
    expect(recorded.map((r) => r.user_id).sort()).toEqual([...known].sort());
  });

  test('When one user floods, then past the per-user limit it gets 429 and another user is still served', async () => {
    const coupon = await newCoupon();
    const flooder = await knownUser();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => http.post(`/coupons/${coupon.id}/issue`).send({ userId: flooder })),
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body).toMatchObject({ type: problemTypeUri('rate-limited'), status: 429 });
    expect((await http.post(`/coupons/${coupon.id}/issue`).send({ userId: await knownUser() })).status).toBe(
      202,
    );
  });

  test('When the coupon window has not started, then the worker rejects with NOT_STARTED without asking the actor', async () => {
    const coupon = await newCoupon({
      startsAt: new Date(Date.now() + hour).toISOString(),
      endsAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    const userId = await knownUser();
    const { requestId } = (await http.post(`/coupons/${coupon.id}/issue`).send({ userId })).body;
    // Requests of the other tests wait in the same table: the worker takes them too.
    const asked: string[] = [];
    const worker = new IssueWorker(
      {
        em: svc.orm.em,
        statuses: new RequestStatusCache(redis),
        coupons: new CouponDefinitions(),
        claimQuota: async (couponId, batch) => {
          asked.push(couponId);
          return batch.claims.map(() => ({ accepted: false, reason: 'SOLD_OUT' }));
        },
        outboxWritten: () => undefined,
        log: createLogger('coupon-test', 'silent'),
      },
      { workerId: 'test', batchSize: 1000, concurrency: 1, leaseMs: 15_000, pollMs: hour },
    );
    expect(await worker.sweep()).toBeGreaterThan(0);
    const decided = await eventually('the request to be decided', async () => {
      const { body } = await http.get(`/coupon-requests/${requestId}`);
      return body.status === 'REJECTED' && body;
    });
    expect(decided).toMatchObject({ status: 'REJECTED', reason: 'NOT_STARTED' });
    expect(asked).not.toContain(coupon.id);
    expect(await sql('select * from user_coupons where user_id = ?', [userId])).toEqual([]);
    // The backlog gauge counts it by state and reason, read at scrape time.
    const metrics = (await http.get('/metrics')).text;
    const rejected = metrics.match(/^coupon_requests\{status="REJECTED",reason="NOT_STARTED"\} (\d+)$/m);
    expect(Number(rejected?.[1])).toBeGreaterThanOrEqual(1);
  });
});

describe('saga steps: useCoupon and restoreCoupon', () => {
  const use = (body: Record<string, unknown>) => http.post('/saga/coupons/use').send(body);

  test('When an owned coupon is used twice for one order, then it is USED once with its discount', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    await issued(coupon.id, userId);
    const orderId = randomUUID();
    const first = await use({ orderId, userId, couponId: coupon.id, orderAmount: 30_000 });
    expect(first.body).toMatchObject({ orderId, status: 'USED', discount: 5000 });
    expect((await use({ orderId, userId, couponId: coupon.id, orderAmount: 30_000 })).body).toEqual(
      first.body,
    );
    expect((await http.get(`/users/${userId}/coupons`)).body.items).toEqual([
      expect.objectContaining({ couponId: coupon.id, status: 'USED', orderId }),
    ]);
    const other = await use({ orderId: randomUUID(), userId, couponId: coupon.id, orderAmount: 30_000 });
    expect(other.body.type).toBe(problemTypeUri('coupon-already-used'));
  });

  test('When the user does not own it, or the order is under the minimum, then it is refused and nothing changes', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    expect(
      (await use({ orderId: randomUUID(), userId, couponId: coupon.id, orderAmount: 30_000 })).body.type,
    ).toBe(problemTypeUri('coupon-not-owned'));
    await issued(coupon.id, userId);
    const small = await use({ orderId: randomUUID(), userId, couponId: coupon.id, orderAmount: 19_999 });
    expect(small.body).toMatchObject({
      status: 409,
      type: problemTypeUri('order-below-minimum'),
      minOrderAmount: 20_000,
    });
    expect((await http.get(`/users/${userId}/coupons`)).body.items[0].status).toBe('ISSUED');
  });

  test('When the coupon has expired, then it cannot be used', async () => {
    const coupon = await newCoupon({
      startsAt: new Date(Date.now() - 2 * hour).toISOString(),
      endsAt: new Date(Date.now() - hour).toISOString(),
    });
    const userId = await knownUser();
    await issued(coupon.id, userId);
    expect(
      (await use({ orderId: randomUUID(), userId, couponId: coupon.id, orderAmount: 30_000 })).body.type,
    ).toBe(problemTypeUri('coupon-expired'));
  });

  test('When an order is restored twice, then its coupon is ISSUED again once, and can be used by another order', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    await issued(coupon.id, userId);
    const orderId = randomUUID();
    await use({ orderId, userId, couponId: coupon.id, orderAmount: 30_000 }).expect(200);
    const first = await http.post('/saga/coupons/restore').send({ orderId });
    expect(first.body).toMatchObject({ orderId, status: 'RESTORED', discount: 5000 });
    expect((await http.post('/saga/coupons/restore').send({ orderId })).body).toEqual(first.body);
    expect((await http.get(`/users/${userId}/coupons`)).body.items[0]).toMatchObject({
      status: 'ISSUED',
      orderId: null,
    });
    expect(
      (await use({ orderId: randomUUID(), userId, couponId: coupon.id, orderAmount: 30_000 })).status,
    ).toBe(200);
    expect(
      (
        await sql<{ event_type: string }>('select event_type from outbox where subject = ? order by id', [
          orderId,
        ])
      ).map((e) => e.event_type),
    ).toEqual(['CouponUsed', 'CouponRestored']);
  });

  test('When the use is asked again after its restore (a re-run of a half-compensated saga), then it is refused and the coupon stays ISSUED', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    await issued(coupon.id, userId);
    const orderId = randomUUID();
    const input = { orderId, userId, couponId: coupon.id, orderAmount: 30_000 };
    await use(input).expect(200);
    await http.post('/saga/coupons/restore').send({ orderId }).expect(200);
    const again = await use(input);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe(problemTypeUri('coupon-use-cancelled'));
    expect((await http.get(`/users/${userId}/coupons`)).body.items[0]).toMatchObject({
      status: 'ISSUED',
      orderId: null,
    });
  });

  test('When the restore comes before the use, then the late use is refused and the coupon stays ISSUED', async () => {
    const coupon = await newCoupon();
    const userId = await knownUser();
    await issued(coupon.id, userId);
    const orderId = randomUUID();
    expect((await http.post('/saga/coupons/restore').send({ orderId })).body).toMatchObject({
      status: 'RESTORED',
      userCouponId: null,
    });
    expect((await use({ orderId, userId, couponId: coupon.id, orderAmount: 30_000 })).body.type).toBe(
      problemTypeUri('coupon-use-cancelled'),
    );
    expect((await http.get(`/users/${userId}/coupons`)).body.items[0].status).toBe('ISSUED');
  });
});
