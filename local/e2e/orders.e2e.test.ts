/**
 * The order saga on the real stack: every step through Dapr service
 * invocation from a Dapr Workflow, a failure injected at each step with the
 * exact compensations checked in every service, a payment timeout resolved by
 * asking, idempotent ordering, live progress, and crashes of the order
 * service and of its sidecar in the middle of sagas.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, jest, test } from '@jest/globals';
import {
  call,
  checkInvariants,
  eventually,
  findOnKafka,
  gateway,
  processControl,
  query,
  services,
  signIn,
  viaGateway,
} from '@shop/testkit';
import { Redis } from 'ioredis';
import {
  asBuyer,
  asBuyerOf,
  asOps,
  couponFor,
  newProduct,
  newUser,
  orderNow,
  placeOrder as placeOrderAsBuyer,
  settled,
  tokenOf,
} from './shop-fixtures.ts';

jest.setTimeout(240_000);

/** Every order this suite placed, for the invariant check at its end. */
const placed: string[] = [];

/** Places an order as its buyer, through the gateway, and notes it for the invariant check. */
async function placeOrder(
  body: { userId: string } & Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const orderId = await placeOrderAsBuyer(body, headers);
  placed.push(orderId);
  return orderId;
}

const stepStates = (order: any) => Object.fromEntries(order.steps.map((s: any) => [s.step, s.state]));
// What the buyer (or anyone, for stock) reads through the gateway.
const stockOf = async (productId: string) =>
  (await viaGateway('GET', `/products/${productId}/stock`)).body.quantity;
const balanceOf = async (userId: string) =>
  (await asBuyer(userId, 'GET', `/users/${userId}/points`)).body.balance;
const couponState = async (userId: string) =>
  (await asBuyer(userId, 'GET', `/users/${userId}/coupons`)).body.items[0]?.status;
const paymentOf = async (orderId: string) => (await asBuyerOf(orderId, 'GET', `/payments/${orderId}`)).body;

/** One saga step called as the order's workflow calls it, through the order service's sidecar. */
const callStep = (appId: keyof typeof services, path: string, body: unknown) =>
  call('POST', `${services.order.daprUrl}/v1.0/invoke/${appId}/method/${path}`, body);

/** A buyer with 50,000 points and a coupon, and a product at 20,000 KRW with 10 in stock. */
async function scene() {
  const userId = await newUser(50_000);
  const productId = await newProduct(20_000, 10);
  const couponId = await couponFor(userId);
  return { userId, productId, couponId };
}

describe('the order saga', () => {
  test('When an order with a coupon and points goes through, then every service shows it and the ranking counts it once', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder({
      userId,
      items: [{ productId, quantity: 2 }],
      couponId,
      pointsToUse: 3000,
    });
    const order = await settled(orderId);

    expect(order).toMatchObject({
      status: 'COMPLETED',
      totalAmount: 40_000,
      discount: 5000,
      pointsToUse: 3000,
      pointsUsed: 3000,
      paymentAmount: 32_000,
    });
    expect(order.items).toEqual([
      { productId, productName: expect.any(String), unitPrice: 20_000, quantity: 2 },
    ]);
    expect(Object.values(stepStates(order)).every((s) => s === 'done')).toBe(true);
    expect(await stockOf(productId)).toBe(8);
    expect(await balanceOf(userId)).toBe(47_000);
    expect(await couponState(userId)).toBe('USED');
    expect(await paymentOf(orderId)).toMatchObject({ status: 'COMPLETED', amount: 32_000 });
    const completedEvent = await findOnKafka(
      'order-events',
      (e) => e.type === 'OrderCompleted' && e.subject === orderId,
    );
    // Read from the day's sorted set itself: the API shows only the top 100 of everything sold today.
    const redis = new Redis(process.env.SHOP_TEST_REDIS_URL!);
    try {
      const day = `ranking:sales:${new Date().toISOString().slice(0, 10)}`;
      // Once the ranking consumer's inbox holds the event, any redelivery is a no-op.
      await eventually(
        'the ranking consumer to record the event',
        async () =>
          (
            await query(
              'product',
              "select 1 from inbox where consumer = 'product.ranking' and event_id = $1",
              [completedEvent.id],
            )
          ).length === 1,
      );
      expect(Number(await redis.zscore(day, productId))).toBe(2);
    } finally {
      await redis.quit();
    }
    expect(
      (await asBuyer(userId, 'GET', `/users/${userId}/orders`)).body.items.map((o: any) => o.orderId),
    ).toContain(orderId);
    const told = await eventually('the buyer to be notified', async () => {
      const n = (await asBuyer(userId, 'GET', `/users/${userId}/notifications`)).body.items;
      return n.length > 0 ? n : undefined;
    });
    expect(told).toEqual([expect.objectContaining({ orderId, kind: 'OrderCompleted' })]);
  });

  test('When an order has neither coupon nor points, then those steps are skipped and it completes', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(15_000, 5);
    const order = await settled(await placeOrder({ userId, items: [{ productId, quantity: 1 }] }));
    expect(order.status).toBe('COMPLETED');
    expect(stepStates(order)).toMatchObject({
      useCoupon: 'skipped',
      applyCoupon: 'skipped',
      deductPoints: 'skipped',
      completeOrder: 'done',
    });
    expect(await paymentOf(order.orderId)).toMatchObject({ status: 'COMPLETED', amount: 15_000 });
  });

  test('When the coupon is refused, then the order fails at once and nothing else moves', async () => {
    const { userId, productId } = await scene();
    const notOwned = await couponFor(await newUser(0));
    const order = await settled(
      await placeOrder({ userId, items: [{ productId, quantity: 1 }], couponId: notOwned }),
    );
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toMatch(/coupon refused/);
    expect(stepStates(order)).toMatchObject({
      useCoupon: 'failed',
      deductStock: 'pending',
      startPayment: 'pending',
    });
    expect(await stockOf(productId)).toBe(10);
    expect((await asBuyerOf(order.orderId, 'GET', `/payments/${order.orderId}`)).status).toBe(404);
  });

  test('When stock is short, then the coupon is given back and nothing is paid', async () => {
    const { userId, productId, couponId } = await scene();
    const order = await settled(
      await placeOrder({ userId, items: [{ productId, quantity: 11 }], couponId, pointsToUse: 1000 }),
    );
    expect(order.status).toBe('FAILED');
    expect(stepStates(order)).toMatchObject({
      useCoupon: 'compensated',
      applyCoupon: 'compensated',
      deductStock: 'failed',
      startPayment: 'pending',
    });
    // The refusal's kind is kept with the step, so that a page can say "out of stock" in its words.
    expect(order.steps.find((s: { step: string }) => s.step === 'deductStock')).toMatchObject({
      problemType: 'urn:shop-on-dapr:problem:out-of-stock',
      detail: `Product ${productId} has 10 left; 11 were asked for.`,
    });
    expect(order.discount).toBe(0);
    expect(await couponState(userId)).toBe('ISSUED');
    expect(await stockOf(productId)).toBe(10);
    expect(await balanceOf(userId)).toBe(50_000);
  });

  test('When the payment cannot start, then stock and coupon are given back', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 3 }], couponId, pointsToUse: 1000 },
      { 'x-fake-gateway': 'fail' },
    );
    const order = await settled(orderId);
    expect(order.status).toBe('FAILED');
    expect(stepStates(order)).toMatchObject({
      deductStock: 'compensated',
      startPayment: 'compensated',
      deductPoints: 'pending',
    });
    expect(await stockOf(productId)).toBe(10);
    expect(await couponState(userId)).toBe('ISSUED');
    expect(await balanceOf(userId)).toBe(50_000);
    expect((await paymentOf(orderId)).status).toBe('CANCELLED');
  });

  test('When points are short, then the payment is cancelled and stock and coupon are given back', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder({
      userId,
      items: [{ productId, quantity: 3 }],
      couponId,
      pointsToUse: 50_001,
    });
    const order = await settled(orderId);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toMatch(/points refused/);
    expect(stepStates(order)).toMatchObject({
      startPayment: 'compensated',
      deductPoints: 'failed',
      completePayment: 'pending',
    });
    expect(order.steps.find((s: { step: string }) => s.step === 'deductPoints')?.problemType).toBe(
      'urn:shop-on-dapr:problem:insufficient-points',
    );
    expect((await paymentOf(orderId)).status).toBe('CANCELLED');
    expect(await stockOf(productId)).toBe(10);
    expect(await couponState(userId)).toBe('ISSUED');
    expect(await balanceOf(userId)).toBe(50_000);
  });

  test('When the payment cannot be completed, then points are refunded and everything before is undone', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 2 }], couponId, pointsToUse: 7000 },
      { 'x-fake-gateway': 'fail-capture' },
    );
    const order = await settled(orderId);
    expect(order.status).toBe('FAILED');
    expect(stepStates(order)).toMatchObject({
      useCoupon: 'compensated',
      applyCoupon: 'compensated',
      deductStock: 'compensated',
      startPayment: 'compensated',
      deductPoints: 'compensated',
      completePayment: 'failed',
      completeOrder: 'pending',
    });
    expect(await balanceOf(userId)).toBe(50_000);
    expect(order.pointsUsed).toBe(0);
    const ledger = (await asBuyer(userId, 'GET', `/users/${userId}/points/ledger`)).body.items;
    expect(ledger.filter((e: any) => e.orderId === orderId).map((e: any) => [e.kind, e.amount])).toEqual([
      ['REFUND', 7000],
      ['USE', -7000],
    ]);
    expect((await paymentOf(orderId)).status).toBe('CANCELLED');
    expect(await stockOf(productId)).toBe(10);
    expect(await couponState(userId)).toBe('ISSUED');
    await findOnKafka('order-events', (e) => e.type === 'OrderFailed' && e.subject === orderId);
    const toldFailed = await eventually('the buyer to be notified', async () => {
      const n = (await asBuyer(userId, 'GET', `/users/${userId}/notifications`)).body.items;
      return n.length > 0 ? n : undefined;
    });
    expect(toldFailed).toEqual([
      expect.objectContaining({
        orderId,
        kind: 'OrderFailed',
        message: expect.stringMatching(/could not be completed/),
      }),
    ]);
  });

  test('When the payment answer times out, then the saga asks the payment service and, the payment being there, completes', async () => {
    const { userId, productId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }] },
      { 'x-fake-gateway': 'timeout' },
    );
    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect((await paymentOf(orderId)).status).toBe('COMPLETED');
    expect(await stockOf(productId)).toBe(9);
  });

  test('When 10,000 points are offered on a 10,000 KRW order with a 5,000 KRW coupon, then only 5,000 points are taken and the amounts add up', async () => {
    const userId = await newUser(10_000);
    const productId = await newProduct(10_000, 5);
    const couponId = await couponFor(userId);
    const order = await settled(
      await placeOrder({ userId, items: [{ productId, quantity: 1 }], couponId, pointsToUse: 10_000 }),
    );
    expect(order).toMatchObject({
      status: 'COMPLETED',
      totalAmount: 10_000,
      discount: 5000,
      pointsToUse: 10_000,
      pointsUsed: 5000,
      paymentAmount: 0,
    });
    expect(await balanceOf(userId)).toBe(5000);
    expect(await paymentOf(order.orderId)).toMatchObject({ status: 'COMPLETED', amount: 0 });
  });

  test('When completeOrder fails several times after the capture, then the saga goes forward only: COMPLETED, captured once, nothing given back', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }], couponId, pointsToUse: 2000 },
      { 'x-saga-fault': 'complete-order:3' },
    );
    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(Object.values(stepStates(order)).every((s) => s === 'done')).toBe(true);
    const attempts = Object.fromEntries(order.steps.map((s: any) => [s.step, s.attempts]));
    expect(attempts).toEqual({
      ...Object.fromEntries(Object.keys(attempts).map((k) => [k, 1])),
      completeOrder: 4,
    });
    expect(await paymentOf(orderId)).toMatchObject({ status: 'COMPLETED', amount: 13_000 });
    const captures = await query(
      'payment',
      "select 1 from outbox where subject = $1 and event_type = 'PaymentCompleted'",
      [orderId],
    );
    expect(captures).toHaveLength(1);
    expect(await stockOf(productId)).toBe(9);
    expect(await balanceOf(userId)).toBe(48_000);
    expect(await couponState(userId)).toBe('USED');
  });

  test('When the same order is posted twice with one idempotency key, then there is one order and one saga', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(12_000, 5);
    const body = { userId, items: [{ productId, quantity: 2 }] };
    const key = `order-${randomUUID()}`;
    const [a, b] = await Promise.all([
      placeOrder(body, { 'idempotency-key': key }),
      placeOrder(body, { 'idempotency-key': key }),
    ]);
    expect(a).toBe(b);
    await settled(a);
    expect(await stockOf(productId)).toBe(3);
  });

  test("When an idempotency key is reused with another body, it is a 422; another user's same key is that user's own order", async () => {
    const alice = await newUser(0);
    const bob = await newUser(0);
    const productId = await newProduct(12_000, 5);
    const key = `order-${randomUUID()}`;
    const first = await placeOrder(
      { userId: alice, items: [{ productId, quantity: 1 }] },
      { 'idempotency-key': key },
    );

    const otherBody = await asBuyer(
      alice,
      'POST',
      '/orders',
      { userId: alice, items: [{ productId, quantity: 2 }] },
      { 'idempotency-key': key },
    );
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.type).toBe('urn:shop-on-dapr:problem:idempotency-key-reused');

    const bobs = await placeOrder(
      { userId: bob, items: [{ productId, quantity: 1 }] },
      { 'idempotency-key': key },
    );
    expect(bobs).not.toBe(first);
    expect((await settled(bobs)).userId).toBe(bob);
    expect((await settled(first)).userId).toBe(alice);
    const alicesOrders = (await asBuyer(alice, 'GET', `/users/${alice}/orders`)).body.items;
    expect(alicesOrders.map((o: any) => o.orderId)).toEqual([first]);
    expect(await stockOf(productId)).toBe(3);
  });

  test('When bad orders are posted, then they get a clear 4xx and no order', async () => {
    const userId = await newUser(0);
    const unknown = await asBuyer(userId, 'POST', '/orders', {
      userId,
      items: [{ productId: randomUUID(), quantity: 1 }],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ field: 'body.items.0.productId', message: 'no such product' }]);
    const empty = await asBuyer(userId, 'POST', '/orders', { userId, items: [] });
    expect(empty.body.errors[0].field).toBe('body.items');
    const productId = await newProduct(1000, 1);
    const tooManyPoints = await asBuyer(userId, 'POST', '/orders', {
      userId,
      items: [{ productId, quantity: 1 }],
      pointsToUse: 1001,
    });
    expect(tooManyPoints.body.errors[0].field).toBe('body.pointsToUse');
    // Past what the product and payment services accept: refused before any step runs.
    const sameProductOver = await asBuyer(userId, 'POST', '/orders', {
      userId,
      items: Array.from({ length: 11 }, () => ({ productId, quantity: 1000 })),
    });
    expect(sameProductOver.status).toBe(422);
    expect(sameProductOver.body.errors[0].message).toMatch(/11000 of product .*: at most 10000 per order/);
    const dear = await newProduct(1_000_000_000, 2);
    const overTotal = await asBuyer(userId, 'POST', '/orders', {
      userId,
      items: [{ productId: dear, quantity: 2 }],
    });
    expect(overTotal.status).toBe(422);
    expect(overTotal.body.errors[0].message).toMatch(/total \(2000000000 KRW\) is over 1000000000 KRW/);
    expect((await asBuyer(userId, 'GET', `/orders/${randomUUID()}`)).status).toBe(404);
    expect((await asBuyer(userId, 'GET', `/users/${userId}/orders`)).body.items).toEqual([]);
  });

  test("When a customer sends the fault hooks' headers through the gateway, then they are not obeyed; an operator's are, where faults are on", async () => {
    const { userId, productId } = await scene();
    const declineAsked = { 'x-fake-gateway': 'fail' };
    const ops = await signIn('ops@example.com', 'ops-demo-pass');
    const orderAs = async (who: { token: string; userId: string }) => {
      const placedNow = await viaGateway('POST', '/orders', {
        token: who.token,
        body: { userId: who.userId, items: [{ productId, quantity: 1 }] },
        headers: declineAsked,
      });
      expect(placedNow.status).toBe(202);
      placed.push(placedNow.body.orderId);
      return eventually('the order to end', async () => {
        const o = (await viaGateway('GET', `/orders/${placedNow.body.orderId}`, { token: who.token })).body;
        return o.status === 'PENDING' ? undefined : o;
      });
    };
    expect((await orderAs({ token: tokenOf(userId), userId })).status).toBe('COMPLETED');
    expect((await orderAs(ops)).status).toBe('FAILED');
  });

  test('When a client follows an order on its SSE stream, then it sees the steps advance to COMPLETED', async () => {
    const { userId, productId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }] },
      { 'x-fake-gateway': 'slow:500' },
    );
    const res = await fetch(`${gateway.appUrl}/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${tokenOf(userId)}` },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const snapshots = [...(await res.text()).matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    expect(snapshots.at(-1).status).toBe('COMPLETED');
    expect(snapshots.length).toBeGreaterThan(2);
    expect(snapshots.some((s) => s.steps.some((st: any) => st.state === 'running'))).toBe(true);
  });
});

describe('duplicate delivery', () => {
  test('When every step of a completed order is called again (a workflow retry), then each answers as before and nothing moves', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder({
      userId,
      items: [{ productId, quantity: 1 }],
      couponId,
      pointsToUse: 2000,
    });
    expect((await settled(orderId)).status).toBe('COMPLETED');
    const before = {
      stock: await stockOf(productId),
      points: await balanceOf(userId),
      payment: await paymentOf(orderId),
    };

    expect(
      (await callStep('coupon', 'saga/coupons/use', { orderId, userId, couponId, orderAmount: 20_000 })).body,
    ).toMatchObject({ status: 'USED', discount: 5000 });
    expect(
      (await callStep('product', 'saga/stock/deduct', { orderId, items: [{ productId, quantity: 1 }] })).body
        .status,
    ).toBe('DEDUCTED');
    expect((await callStep('payment', 'saga/payments/start', { orderId, amount: 13_000 })).body.status).toBe(
      'COMPLETED',
    );
    expect((await callStep('user', 'saga/points/deduct', { orderId, userId, amount: 2000 })).body.kind).toBe(
      'USE',
    );
    expect((await callStep('payment', 'saga/payments/complete', { orderId })).body.status).toBe('COMPLETED');

    expect({
      stock: await stockOf(productId),
      points: await balanceOf(userId),
      payment: await paymentOf(orderId),
    }).toEqual(before);
    expect(await couponState(userId)).toBe('USED');
  });
});

describe('compensations that keep failing', () => {
  test('When a compensation runs out of attempts, then the order NEEDS_ATTENTION, is listed, and a re-drive ends it FAILED with everything undone', async () => {
    const userId = await newUser(1000);
    const productId = await newProduct(10_000, 10);
    // Points are short, so the saga will compensate; the slow payment gives time to take the product service away first.
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 2 }], pointsToUse: 5000 },
      { 'x-fake-gateway': 'slow:2500' },
    );
    await eventually('the payment to be under way', async () => {
      const o = await orderNow(orderId);
      return stepStates(o).startPayment === 'running';
    });
    await processControl('product', 'stop');
    try {
      const stuck = await eventually(
        'the order to need attention',
        async () => {
          const o = await orderNow(orderId);
          return o.status === 'NEEDS_ATTENTION' ? o : undefined;
        },
        60_000,
      );
      expect(stuck.failureReason).toMatch(/deductStock could not be undone/);
      expect(stepStates(stuck)).toMatchObject({
        deductStock: 'failed',
        startPayment: 'compensated',
        deductPoints: 'failed',
      });
      const listed = (await asOps('GET', '/ops/order/orders?status=NEEDS_ATTENTION')).body.items;
      expect(listed.map((o: any) => o.orderId)).toContain(orderId);
    } finally {
      await processControl('product', 'start');
    }

    const redrive = await asOps('POST', `/ops/order/orders/${orderId}/redrive`);
    expect(redrive.status).toBe(202);
    const done = await eventually('the re-drive to end the order', async () => {
      const o = await orderNow(orderId);
      return o.status === 'FAILED' ? o : undefined;
    });
    expect(done.failureReason).toMatch(/re-driven/);
    expect(await stockOf(productId)).toBe(10);
    expect((await paymentOf(orderId)).status).toBe('CANCELLED');
    expect(await balanceOf(userId)).toBe(1000);
    // Only a NEEDS_ATTENTION order can be re-driven: any other state is a conflict.
    const again = await asOps('POST', `/ops/order/orders/${orderId}/redrive`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:order-not-stuck', status: 409 });
  });
});

describe('crash recovery', () => {
  for (const victim of ['order', 'order-dapr'] as const) {
    test(`When ${victim} is killed while sagas are in flight, then every order still ends and the data agrees`, async () => {
      const userId = await newUser(100_000);
      const productId = await newProduct(10_000, 50);
      // Slow payments keep the sagas in the middle when the kill comes.
      const orders = await Promise.all(
        Array.from({ length: 5 }, () =>
          placeOrder(
            { userId, items: [{ productId, quantity: 2 }], pointsToUse: 1000 },
            { 'x-fake-gateway': 'slow:1500' },
          ),
        ),
      );
      await eventually('the sagas to be under way', async () => {
        const o = await orderNow(orders.at(-1)!);
        return ['running', 'done'].includes(stepStates(o).startPayment);
      });
      await processControl(victim, 'stop', 'SIGKILL');
      await processControl(victim, 'start');

      const ended = await Promise.all(orders.map(settled));
      const completed = ended.filter((o) => o.status === 'COMPLETED');
      expect(ended.every((o) => o.status === 'COMPLETED' || o.status === 'FAILED')).toBe(true);
      // Whatever ended how: stock, points and payments agree with the orders, nothing twice.
      expect(await stockOf(productId)).toBe(50 - 2 * completed.length);
      expect(await balanceOf(userId)).toBe(100_000 - 1000 * completed.length);
      for (const o of ended) {
        expect((await paymentOf(o.orderId)).status).toBe(
          o.status === 'COMPLETED' ? 'COMPLETED' : 'CANCELLED',
        );
      }
    });
  }
});

describe('the reconciler', () => {
  const workflowApi = (orderId: string, action: 'terminate' | 'pause') =>
    call('POST', `${services.order.daprUrl}/v1.0/workflows/dapr/${orderId}/${action}`);
  const reconciled = (orderId: string) =>
    eventually(
      `the reconciler to act on ${orderId}`,
      async () => {
        const { recent } = (await asOps('GET', '/ops/order/reconciler')).body;
        return recent.some((r: any) => r.orderId === orderId)
          ? recent.filter((r: any) => r.orderId === orderId)
          : undefined;
      },
      90_000,
    );
  const capturesOf = async (orderId: string) =>
    (
      await query('payment', "select 1 from outbox where subject = $1 and event_type = 'PaymentCompleted'", [
        orderId,
      ])
    ).length;

  test('When the service dies between committing an order and scheduling its workflow, then the reconciler schedules it and the order completes', async () => {
    const { userId, productId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }] },
      { 'x-saga-fault': 'no-workflow' },
    );
    expect((await orderNow(orderId)).status).toBe('PENDING');
    const pending = (await asOps('GET', '/ops/order/orders?status=PENDING')).body.items;
    expect(pending.map((o: any) => o.orderId)).toContain(orderId);

    expect(await reconciled(orderId)).toEqual([
      expect.objectContaining({ action: 'scheduled', workflow: 'missing' }),
    ]);
    expect((await settled(orderId)).status).toBe('COMPLETED');
    expect(await paymentOf(orderId)).toMatchObject({ status: 'COMPLETED', amount: 20_000 });
    expect(await stockOf(productId)).toBe(9);
  });

  test('When an order’s workflow is terminated mid-saga, then the reconciler runs it again and it completes, paid and deducted once', async () => {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 2 }], couponId, pointsToUse: 1000 },
      { 'x-fake-gateway': 'slow:3000' },
    );
    await eventually('the payment to be under way', async () => {
      const o = await orderNow(orderId);
      return stepStates(o).startPayment === 'running';
    });
    expect((await workflowApi(orderId, 'terminate')).status).toBe(202);

    expect(await reconciled(orderId)).toEqual([
      expect.objectContaining({ action: 'restarted', workflow: 'TERMINATED' }),
    ]);
    expect(await settled(orderId)).toMatchObject({ status: 'COMPLETED', workflowId: `${orderId}.run2` });
    expect((await reconciled(orderId)).length).toBe(1);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'COMPLETED', amount: 34_000 });
    expect(await capturesOf(orderId)).toBe(1);
    expect(await stockOf(productId)).toBe(8);
    expect(await balanceOf(userId)).toBe(49_000);
  });

  /**
   * A first run that took every step and then stopped part-way through its
   * compensations (its instance gone, as after a crash): the test takes the
   * steps itself on an order whose workflow was never scheduled, so that the
   * reconciler's run is the re-run. It must stop at the first undone step.
   */
  async function halfCompensated(undone: 'points' | 'points, payment and stock') {
    const { userId, productId, couponId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }], couponId, pointsToUse: 2000 },
      { 'x-saga-fault': 'no-workflow' },
    );
    const steps: [keyof typeof services, string, unknown][] = [
      ['coupon', 'saga/coupons/use', { orderId, userId, couponId, orderAmount: 20_000 }],
      ['product', 'saga/stock/deduct', { orderId, items: [{ productId, quantity: 1 }] }],
      ['payment', 'saga/payments/start', { orderId, amount: 13_000 }],
      ['user', 'saga/points/deduct', { orderId, userId, amount: 2000 }],
      ['user', 'saga/points/refund', { orderId, userId }],
    ];
    if (undone !== 'points') {
      steps.push(
        ['payment', 'saga/payments/cancel', { orderId }],
        ['product', 'saga/stock/restore', { orderId }],
      );
    }
    for (const [app, path, body] of steps) expect((await callStep(app, path, body)).status).toBe(200);
    expect(await reconciled(orderId)).toEqual([expect.objectContaining({ action: 'scheduled' })]);
    const order = await settled(orderId);
    expect(order.status).toBe('FAILED');
    // Whole: nothing taken, nothing paid, the coupon usable again.
    expect(await stockOf(productId)).toBe(10);
    expect(await balanceOf(userId)).toBe(50_000);
    expect(await couponState(userId)).toBe('ISSUED');
    expect((await paymentOf(orderId)).status).toBe('CANCELLED');
    expect(order.pointsUsed).toBe(0);
    return order;
  }

  test('When a saga stopped after refunding the points (the payment not yet cancelled) is run again, then it fails at the points and every ledger is whole', async () => {
    const order = await halfCompensated('points');
    expect(order.failureReason).toMatch(/^points refused/);
    expect(order.steps.find((s: any) => s.step === 'deductPoints').problemType).toBe(
      'urn:shop-on-dapr:problem:points-already-refunded',
    );
  });

  test('When a saga stopped after cancelling the payment and restoring the stock is run again, then it fails at the stock and every ledger is whole', async () => {
    const order = await halfCompensated('points, payment and stock');
    expect(order.failureReason).toMatch(/^stock refused/);
    expect(order.steps.find((s: any) => s.step === 'deductStock').problemType).toBe(
      'urn:shop-on-dapr:problem:stock-already-restored',
    );
  });

  test('When an order’s workflow stalls (suspended, no progress past the bound), then the reconciler terminates and re-runs it', async () => {
    const { userId, productId } = await scene();
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }] },
      { 'x-fake-gateway': 'slow:2000' },
    );
    await eventually('the payment to be under way', async () => {
      const o = await orderNow(orderId);
      return stepStates(o).startPayment === 'running';
    });
    expect((await workflowApi(orderId, 'pause')).status).toBe(202);

    await eventually(
      'the stalled workflow to be terminated and run again',
      async () => {
        const actions = (await reconciled(orderId)).map((r: any) => r.action);
        return actions.includes('terminated-stalled') && actions.includes('restarted');
      },
      90_000,
    );
    expect(await settled(orderId)).toMatchObject({ status: 'COMPLETED', workflowId: `${orderId}.run2` });
    // Newest first: stalled once, then run again once.
    expect((await reconciled(orderId)).map((r: any) => r.action)).toEqual([
      'restarted',
      'terminated-stalled',
    ]);
    expect(await capturesOf(orderId)).toBe(1);
    expect(await stockOf(productId)).toBe(9);
  });
});

describe('the invariant checker', () => {
  test('When every order of this suite has ended, then the checker finds stock, points, coupons and payments in agreement', async () => {
    const report = await checkInvariants(placed, { workflowsVia: services.order.daprUrl });
    expect(report.violations).toEqual([]);
    expect(report.orders).toBe(new Set(placed).size);
    expect(report.completed).toBeGreaterThan(0);
    expect(report.failed).toBeGreaterThan(0);
  });
});
