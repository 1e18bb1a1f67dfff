/**
 * Points are never free: a customer buys them with a paid top-up (its own
 * workflow: the payment started, captured, and only then the points
 * credited), and only an admin or an operator grants them, with a reason, on
 * the real stack through the gateway.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, jest, test } from '@jest/globals';
import { call, eventually, query, services, signIn, viaGateway } from '@shop/testkit';
import { asBuyer, asOps, newUser, withFaults } from './shop-fixtures.ts';

jest.setTimeout(120_000);

const balanceOf = async (userId: string) =>
  (await asBuyer(userId, 'GET', `/users/${userId}/points`)).body.balance;
const ledgerOf = async (userId: string) =>
  (await asBuyer(userId, 'GET', `/users/${userId}/points/ledger`)).body.items;
const paymentOf = async (topUpId: string) =>
  (
    await query<{ status: string; amount: string }>(
      'payment',
      'select status, amount from payments where order_id = $1',
      [topUpId],
    )
  )[0];

/** Posts a top-up as its buyer; the 202's id. */
async function topUp(userId: string, amount: number, faults: Record<string, string> = {}): Promise<string> {
  const body = { userId, amount };
  const res = await (Object.keys(faults).length > 0
    ? withFaults(userId, '/top-ups', body, faults)
    : asBuyer(userId, 'POST', '/top-ups', body));
  expect(res.status).toBe(202);
  return res.body.topUpId;
}

const ended = (userId: string, topUpId: string) =>
  eventually(
    `top-up ${topUpId} to end`,
    async () => {
      const t = (await asBuyer(userId, 'GET', `/top-ups/${topUpId}`)).body;
      return t.status === 'PENDING' ? undefined : t;
    },
    90_000,
  );

describe('a paid top-up', () => {
  test('When a customer tops up, then the payment is captured and the points credited once, and it is listed', async () => {
    const userId = await newUser(0);
    const key = { 'idempotency-key': `top-up-${randomUUID()}` };
    const post = () => asBuyer(userId, 'POST', '/top-ups', { userId, amount: 12_000 }, key);
    const topUpId = (await post()).body.topUpId;
    // The same request again is the same top-up.
    expect((await post()).body.topUpId).toBe(topUpId);
    expect(await ended(userId, topUpId)).toMatchObject({
      topUpId,
      userId,
      amount: 12_000,
      status: 'COMPLETED',
    });
    expect(await paymentOf(topUpId)).toEqual({ status: 'COMPLETED', amount: '12000' });
    expect(await balanceOf(userId)).toBe(12_000);
    expect(await ledgerOf(userId)).toEqual([
      expect.objectContaining({ kind: 'CHARGE', amount: 12_000, topUpId, balanceAfter: 12_000 }),
    ]);
    const listed = (await asBuyer(userId, 'GET', `/users/${userId}/top-ups`)).body.items;
    expect(listed.map((t: any) => [t.topUpId, t.status])).toEqual([[topUpId, 'COMPLETED']]);
    // The same key for another amount is refused.
    const reused = await asBuyer(userId, 'POST', '/top-ups', { userId, amount: 13_000 }, key);
    expect(reused.body.type).toBe('urn:shop-on-dapr:problem:idempotency-key-reused');
  });

  test('When the payment is declined or its capture refused, then the top-up fails and no point is credited', async () => {
    const userId = await newUser(0);
    const declined = await topUp(userId, 5000, { 'x-fake-gateway': 'fail' });
    const notCaptured = await topUp(userId, 6000, { 'x-fake-gateway': 'fail-capture' });
    expect(await ended(userId, declined)).toMatchObject({
      status: 'FAILED',
      failureReason: expect.stringMatching(/^payment refused/),
    });
    expect(await ended(userId, notCaptured)).toMatchObject({
      status: 'FAILED',
      failureReason: expect.stringMatching(/^payment not completed/),
    });
    expect((await paymentOf(notCaptured))?.status).toBe('CANCELLED');
    expect(await balanceOf(userId)).toBe(0);
    expect(await ledgerOf(userId)).toEqual([]);
  });

  test('When the points are refused after the payment was captured (no such account), then the top-up ends NEEDS_ATTENTION and its workflow ends, instead of asking forever', async () => {
    // Only a caller inside the mesh can name an account that does not exist (the gateway lets
    // a buyer top up only their own): straight to the order service, as the contract tests do.
    const nobody = randomUUID();
    const posted = await call('POST', `${services.order.appUrl}/top-ups`, { userId: nobody, amount: 4000 });
    expect(posted.status).toBe(202);
    const { topUpId } = posted.body;
    const topUpNow = async () => (await call('GET', `${services.order.appUrl}/top-ups/${topUpId}`)).body;
    const final = await eventually(
      'the top-up to end',
      async () => ((await topUpNow()).status === 'PENDING' ? undefined : topUpNow()),
      90_000,
    );
    expect(final).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failureReason: expect.stringMatching(/^paid, but the points were not credited/),
    });
    expect((await paymentOf(topUpId))?.status).toBe('COMPLETED');
    // An operator finds it (through the gateway, ops role), and the alert's gauge counts it.
    const buyer = await newUser(0);
    expect((await asBuyer(buyer, 'GET', '/ops/order/top-ups')).status).toBe(403);
    const listed = await asOps('GET', '/ops/order/top-ups?status=NEEDS_ATTENTION');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: { topUpId: string }) => t.topUpId)).toContain(topUpId);
    const metrics = await (await fetch(`${services.order.appUrl}/metrics`)).text();
    expect(
      Number(/^top_ups\{status="NEEDS_ATTENTION"[^}]*\} (\d+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    // Ended (or already purged by the test platform's 15 s retention), not retrying.
    const workflow = await call('GET', `${services.order.daprUrl}/v1.0/workflows/dapr/${topUpId}`);
    expect(workflow.status === 404 ? 'purged' : workflow.body.runtimeStatus).toMatch(/^(COMPLETED|purged)$/);
  });

  test('When the service dies between committing a top-up and scheduling its workflow, then the reconciler schedules it and it is credited', async () => {
    const userId = await newUser(0);
    const topUpId = await topUp(userId, 3000, { 'x-saga-fault': 'no-workflow' });
    expect((await asBuyer(userId, 'GET', `/top-ups/${topUpId}`)).body.status).toBe('PENDING');
    expect(await ended(userId, topUpId)).toMatchObject({ status: 'COMPLETED' });
    expect(await balanceOf(userId)).toBe(3000);
    expect((await asOps('GET', '/ops/order/reconciler')).body.topUpsScheduled).toBeGreaterThanOrEqual(1);
  });

  test('When bad top-ups are posted, then they get a clear 4xx and nothing is paid', async () => {
    const userId = await newUser(0);
    for (const amount of [0, 999, 100_000_001, 1.5]) {
      const res = await asBuyer(userId, 'POST', '/top-ups', { userId, amount });
      expect({ amount, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
        amount,
        status: 422,
        field: 'body.amount',
      });
    }
    expect((await asBuyer(userId, 'GET', `/top-ups/${randomUUID()}`)).status).toBe(404);
    expect((await asBuyer(userId, 'GET', `/users/${userId}/top-ups`)).body.items).toEqual([]);
  });
});

describe('points without paying', () => {
  test('When a customer tries to give themselves points, then it is refused and the balance stays 0', async () => {
    const userId = await newUser(0);
    const grant = await asBuyer(userId, 'POST', `/users/${userId}/points/grants`, {
      amount: 1_000_000,
      reason: 'free money',
      idempotencyKey: randomUUID(),
    });
    expect({ status: grant.status, type: grant.body.type }).toEqual({
      status: 403,
      type: 'urn:shop-on-dapr:problem:role-required',
    });
    // The free charge of old is no route at all.
    const charge = await asBuyer(userId, 'POST', `/users/${userId}/points/charge`, {
      amount: 1_000_000,
      idempotencyKey: randomUUID(),
    });
    expect(charge.status).toBe(404);
    expect(await balanceOf(userId)).toBe(0);
  });

  test('When an admin and an operator grant points with a reason, then each entry says why and who', async () => {
    const userId = await newUser(0);
    const admin = await signIn('admin@example.com', 'admin-demo-pass');
    const ops = await signIn('ops@example.com', 'ops-demo-pass');
    for (const [staff, amount] of [
      [admin, 1000],
      [ops, 500],
    ] as const) {
      const res = await viaGateway('POST', `/users/${userId}/points/grants`, {
        token: staff.token,
        body: { amount, reason: 'a late delivery, sorry', idempotencyKey: randomUUID() },
      });
      expect(res.status).toBe(200);
    }
    expect(await balanceOf(userId)).toBe(1500);
    expect(await ledgerOf(userId)).toEqual([
      expect.objectContaining({
        kind: 'GRANT',
        amount: 500,
        reason: 'a late delivery, sorry',
        grantedBy: ops.userId,
      }),
      expect.objectContaining({ kind: 'GRANT', amount: 1000, grantedBy: admin.userId }),
    ]);
    const noReason = await viaGateway('POST', `/users/${userId}/points/grants`, {
      token: admin.token,
      body: { amount: 1000, idempotencyKey: randomUUID() },
    });
    expect(noReason.body.errors?.[0]?.field).toBe('body.reason');
  });
});
