import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { problemTypeUri } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { userService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  svc = await startServiceUnderTest('user_points', userService);
  http = request(svc.app.callback());
});
afterAll(() => svc.close());

const ADMIN = randomUUID();
/** What the gateway passes on for a signed-in admin. */
const asAdmin = { 'x-user-id': ADMIN, 'x-user-role': 'admin' };
const grant = (userId: string, body: Record<string, unknown>, headers: Record<string, string> = asAdmin) =>
  http
    .post(`/users/${userId}/points/grants`)
    .set(headers)
    .send({ reason: 'a test balance', ...body });

async function newUser(balance = 0): Promise<string> {
  const res = await http
    .post('/users')
    .send({ email: `${randomUUID()}@example.com`, name: 'Points' })
    .expect(201);
  if (balance > 0) await grant(res.body.id, { amount: balance, idempotencyKey: randomUUID() }).expect(200);
  return res.body.id;
}
const balance = async (userId: string) => (await http.get(`/users/${userId}/points`)).body.balance;
const ledgerSum = async (userId: string) =>
  Number(
    (
      await svc.orm.em
        .fork()
        .execute<{ s: string }[]>(
          'select coalesce(sum(amount), 0) as s from point_ledger where user_id = ?',
          [userId],
        )
    )[0]?.s,
  );
const deduct = (orderId: string, userId: string, amount: number) =>
  http.post('/saga/points/deduct').send({ orderId, userId, amount });
const refund = (orderId: string, userId: string) =>
  http.post('/saga/points/refund').send({ orderId, userId });

describe('granting points', () => {
  test('When an admin grants points twice with one key, then they are added once, with the reason and the grantor on the entry', async () => {
    const userId = await newUser();
    const send = () =>
      grant(userId, { amount: 5000, reason: 'a late delivery' }).set('idempotency-key', 'grant-0001');
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      userId,
      kind: 'GRANT',
      amount: 5000,
      balanceAfter: 5000,
      reason: 'a late delivery',
      grantedBy: ADMIN,
    });
    expect((await send()).body).toEqual(first.body);
    expect(await balance(userId)).toBe(5000);
    const events = await svc.orm.em
      .fork()
      .execute<{ n: string }[]>(
        "select count(*) as n from outbox where subject = ? and event_type = 'PointsGranted'",
        [userId],
      );
    expect(Number(events[0]!.n)).toBe(1);
  });

  test('When a grant comes without an admin or operator behind it (a customer, or nobody), then it is a 403 and nothing is added', async () => {
    const userId = await newUser();
    const callers: Record<string, string>[] = [{ 'x-user-id': userId, 'x-user-role': 'customer' }, {}];
    for (const headers of callers) {
      const res = await grant(userId, { amount: 1_000_000, idempotencyKey: randomUUID() }, headers);
      expect({ status: res.status, type: res.body.type }).toEqual({
        status: 403,
        type: problemTypeUri('grant-not-allowed'),
      });
    }
    expect(await balance(userId)).toBe(0);
  });

  test('When a key is reused for another grant, then it is a 422 and nothing is added', async () => {
    const userId = await newUser();
    await grant(userId, { amount: 100, idempotencyKey: 'reused-key-1' }).expect(200);
    const res = await grant(userId, { amount: 200, idempotencyKey: 'reused-key-1' });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe(problemTypeUri('idempotency-key-reused'));
    expect(await balance(userId)).toBe(100);
  });

  test('When the amount is not positive, the reason or the key is missing, then it is a 422 naming them', async () => {
    const userId = await newUser();
    const res = await grant(userId, { amount: 0 }).set('idempotency-key', 'k-0000001');
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('body.amount');
    const noReason = await grant(userId, { amount: 10, reason: undefined }).set(
      'idempotency-key',
      'k-0000003',
    );
    expect(noReason.body.errors[0].field).toBe('body.reason');
    const noKey = await grant(userId, { amount: 10 });
    expect(noKey.status).toBe(422);
    expect(noKey.body.errors[0].field).toBe('header.idempotency-key');
  });

  test('When the user does not exist, then it is a 404', async () => {
    const res = await grant(randomUUID(), { amount: 10 }).set('idempotency-key', 'k-0000002');
    expect(res.status).toBe(404);
  });

  test('When the ledger is read, then it is paged, newest first, and sums to the balance', async () => {
    const userId = await newUser();
    for (let i = 1; i <= 5; i++) {
      await grant(userId, { amount: i * 10 }).set('idempotency-key', `page-key-${i}-${userId}`);
    }
    const page = await http.get(`/users/${userId}/points/ledger?page=2&size=2`);
    expect(page.body).toMatchObject({ page: 2, size: 2, total: 5 });
    expect(page.body.items.map((e: { amount: number }) => e.amount)).toEqual([30, 20]);
    expect(await ledgerSum(userId)).toBe(await balance(userId));
    expect((await http.get(`/users/${userId}/points/ledger?size=500`)).status).toBe(422);
  });
});

describe('top-up step: creditTopUp', () => {
  test('When a captured top-up is credited twice, then the points come once and the first entry is returned', async () => {
    const userId = await newUser();
    const topUpId = randomUUID();
    const credit = () => http.post('/saga/points/credit').send({ topUpId, userId, amount: 7000 });
    const first = await credit();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ userId, kind: 'CHARGE', amount: 7000, topUpId, balanceAfter: 7000 });
    expect((await credit()).body).toEqual(first.body);
    expect(await balance(userId)).toBe(7000);
    expect(await ledgerSum(userId)).toBe(7000);
  });

  test('When the public charge of old is asked for, then there is no such route', async () => {
    const userId = await newUser();
    const res = await http.post(`/users/${userId}/points/charge`).set('idempotency-key', randomUUID()).send({
      amount: 1_000_000,
    });
    expect(res.status).toBe(404);
    expect(await balance(userId)).toBe(0);
  });
});

describe('saga steps: deductPoints and refundPoints', () => {
  test('When points are deducted twice for one order, then they are taken once and the first entry is returned', async () => {
    const userId = await newUser(1000);
    const orderId = randomUUID();
    const first = await deduct(orderId, userId, 300);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ kind: 'USE', amount: -300, balanceAfter: 700, orderId });
    expect((await deduct(orderId, userId, 300)).body).toEqual(first.body);
    expect(await balance(userId)).toBe(700);
  });

  test('When the balance is short, then it is refused with insufficient-points and nothing changes', async () => {
    const userId = await newUser(100);
    const res = await deduct(randomUUID(), userId, 101);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: problemTypeUri('insufficient-points'), balance: 100, asked: 101 });
    expect(await balance(userId)).toBe(100);
    expect(await ledgerSum(userId)).toBe(100);
  });

  test('When an order is refunded twice, then exactly what it took comes back once', async () => {
    const userId = await newUser(1000);
    const orderId = randomUUID();
    await deduct(orderId, userId, 400).expect(200);
    const first = await refund(orderId, userId);
    expect(first.body).toMatchObject({ kind: 'REFUND', amount: 400, balanceAfter: 1000 });
    expect((await refund(orderId, userId)).body).toEqual(first.body);
    expect(await balance(userId)).toBe(1000);
  });

  test('When the deduction is asked again after its refund (a re-run of a half-compensated saga), then it is refused and takes nothing', async () => {
    const userId = await newUser(1000);
    const orderId = randomUUID();
    await deduct(orderId, userId, 400).expect(200);
    await refund(orderId, userId).expect(200);
    const again = await deduct(orderId, userId, 400);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe(problemTypeUri('points-already-refunded'));
    expect(await balance(userId)).toBe(1000);
    expect(await ledgerSum(userId)).toBe(1000);
  });

  test('When the refund comes before the deduction, then nothing is given and the late deduction is refused', async () => {
    const userId = await newUser(500);
    const orderId = randomUUID();
    const early = await refund(orderId, userId);
    expect(early.body).toMatchObject({ kind: 'REFUND', amount: 0, balanceAfter: 500 });
    const late = await deduct(orderId, userId, 200);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe(problemTypeUri('points-already-refunded'));
    expect(await balance(userId)).toBe(500);
  });

  test('When many orders deduct from one balance at once, then it never goes below zero', async () => {
    const userId = await newUser(1000);
    const results = await Promise.all(Array.from({ length: 30 }, () => deduct(randomUUID(), userId, 100)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(
      results
        .filter((r) => r.status === 409)
        .every((r) => r.body.type === problemTypeUri('insufficient-points')),
    ).toBe(true);
    expect(results.filter((r) => r.status !== 200 && r.status !== 409)).toEqual([]);
    expect(await balance(userId)).toBe(0);
    expect(await ledgerSum(userId)).toBe(0);
  });

  test('When the same order is deducted concurrently, then it is taken once', async () => {
    const userId = await newUser(1000);
    const orderId = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => deduct(orderId, userId, 250)));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await balance(userId)).toBe(750);
  });
});
