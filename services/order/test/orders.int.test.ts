import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { type EntityManager, problemTypeUri, uuidv7 } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import type { Kysely } from 'kysely';
import request from 'supertest';
import { STEPS } from '../src/orders/order.model.ts';
import {
  findByIdempotencyKey,
  insertOrder,
  pendingOrders,
  setAmount,
  switchWorkflow,
} from '../src/orders/order.repository.ts';
import { finishOrder, markStep } from '../src/orders/order-progress.ts';
import { orderService } from '../src/service.ts';
import { createTopUp } from '../src/top-ups/top-ups.ts';

/**
 * The order service's data access on a real Postgres (its migrations): what
 * the routes read, in one statement however many orders they return, and
 * what the saga writes.
 */

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;
let em: EntityManager;

beforeAll(async () => {
  svc = await startServiceUnderTest('order', orderService);
  http = request(svc.app.callback());
  em = svc.orm.em;
});
afterAll(() => svc.close());

/**
 * Statements this service's MikroORM sends while `fn` runs: each goes through its Kysely
 * client's executor (ORM calls, em.execute and em.getKysely() alike).
 */
async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const executor = (em.getConnection().getClient() as Kysely<unknown>).getExecutor();
  const spy = jest.spyOn(executor, 'executeQuery');
  try {
    await fn();
    return spy.mock.calls.map(([query]) => query.sql);
  } finally {
    spy.mockRestore();
  }
}

const product = (n: number) => ({
  productId: randomUUID(),
  productName: `Product ${n}`,
  unitPrice: 1000 * n,
});

async function placed(userId: string, lines = 2) {
  const id = uuidv7();
  const items = Array.from({ length: lines }, (_, i) => ({ ...product(i + 1), quantity: i + 1 }));
  await em.fork().transactional((tx) =>
    insertOrder(tx, {
      id,
      userId,
      couponId: null,
      pointsToUse: 500,
      totalAmount: items.reduce((s, l) => s + l.unitPrice * l.quantity, 0),
      idempotencyKey: null,
      requestHash: null,
      lines: items,
      steps: STEPS.map((step) => ({ step, state: step === 'useCoupon' ? 'skipped' : 'pending' })),
    }),
  );
  return { id, items };
}

describe('reads', () => {
  test('GET /orders/:id is the order with its lines and steps in their order, in one statement', async () => {
    const userId = randomUUID();
    const { id, items } = await placed(userId, 3);
    await markStep(em, id, 'deductStock', 'running');
    await markStep(em, id, 'deductStock', 'failed', 'out of stock', problemTypeUri('out-of-stock'));
    let res: request.Response | undefined;
    const statements = await statementsOf(async () => {
      res = await http.get(`/orders/${id}`).expect(200);
    });
    expect(statements).toHaveLength(1);
    const order = res!.body;
    expect(order).toMatchObject({
      orderId: id,
      userId,
      status: 'PENDING',
      couponId: null,
      pointsToUse: 500,
      totalAmount: 14_000,
      discount: 0,
      pointsUsed: 0,
      paymentAmount: 14_000,
      workflowId: id,
    });
    expect(order.items).toEqual(
      [...items]
        .sort((a, b) => a.productId.localeCompare(b.productId))
        .map(({ productId, productName, unitPrice, quantity }) => ({
          productId,
          productName,
          unitPrice,
          quantity,
        })),
    );
    expect(order.steps.map((s: { step: string }) => s.step)).toEqual([...STEPS]);
    expect(order.steps[0]).toMatchObject({ state: 'skipped', attempts: 0 });
    expect(order.steps[2]).toMatchObject({
      step: 'deductStock',
      state: 'failed',
      detail: 'out of stock',
      problemType: problemTypeUri('out-of-stock'),
      attempts: 1,
    });
    expect(Date.parse(order.steps[2].updatedAt)).toBeGreaterThanOrEqual(Date.parse(order.createdAt));
  });

  test('GET /orders/:id of no order is a 404 problem', async () => {
    const res = await http.get(`/orders/${randomUUID()}`).expect(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  test('A user’s orders, newest first, are one statement for 30 orders (not one per order)', async () => {
    const userId = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await placed(userId)).id);
    await placed(randomUUID()); // another user's
    let res: request.Response | undefined;
    const statements = await statementsOf(async () => {
      res = await http.get(`/users/${userId}/orders`).expect(200);
    });
    expect(statements).toHaveLength(1);
    expect(res!.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([...ids].reverse());
    expect(
      res!.body.items.every(
        (o: { items: unknown[]; steps: unknown[] }) => o.items.length === 2 && o.steps.length === 7,
      ),
    ).toBe(true);
  });

  test('The operators’ list of orders in one status is one statement, oldest first', async () => {
    const userId = randomUUID();
    const stuck = [(await placed(userId)).id, (await placed(userId)).id];
    await placed(userId);
    for (const id of stuck) await finishOrder(em, id, 'NEEDS_ATTENTION', 'compensation gave up');
    let res: request.Response | undefined;
    const statements = await statementsOf(async () => {
      res = await http.get('/ops/orders?status=NEEDS_ATTENTION').expect(200);
    });
    expect(statements).toHaveLength(1);
    const listed = res!.body.items.map((o: { orderId: string }) => o.orderId);
    expect(listed.filter((id: string) => stuck.includes(id))).toEqual(stuck);
    expect(res!.body.items.every((o: { status: string }) => o.status === 'NEEDS_ATTENTION')).toBe(true);
  });
});

describe('what the saga writes', () => {
  test('A failed order keeps no points used, ends once, and its event is in the outbox once', async () => {
    const { id } = await placed(randomUUID());
    await setAmount(em, id, 'discount', 1000);
    await setAmount(em, id, 'points_used', 500);
    expect((await http.get(`/orders/${id}`)).body).toMatchObject({
      discount: 1000,
      pointsUsed: 500,
      paymentAmount: 3500,
    });
    await finishOrder(em, id, 'FAILED', 'payment declined');
    await finishOrder(em, id, 'COMPLETED');
    const order = (await http.get(`/orders/${id}`)).body;
    expect(order).toMatchObject({
      status: 'FAILED',
      failureReason: 'payment declined',
      pointsUsed: 0,
      paymentAmount: 4000,
    });
    const events = await em
      .fork()
      .execute<{ event_type: string }[]>('select event_type from outbox where subject = ?', [id]);
    expect(events.map((e) => e.event_type)).toEqual(['OrderFailed']);
  });

  test('An order ends COMPLETED with its last step done in the same write: no reader sees it ended with a step running', async () => {
    const { id } = await placed(randomUUID());
    await markStep(em, id, 'completeOrder', 'running');
    await finishOrder(em, id, 'COMPLETED');
    const order = (await http.get(`/orders/${id}`)).body;
    expect(order.status).toBe('COMPLETED');
    expect(order.steps.find((s: { step: string }) => s.step === 'completeOrder')).toMatchObject({
      state: 'done',
      attempts: 1,
    });
  });

  test('An order NEEDS_ATTENTION may still end (its re-drive); a completed one keeps its points', async () => {
    const { id } = await placed(randomUUID());
    await setAmount(em, id, 'points_used', 500);
    await finishOrder(em, id, 'NEEDS_ATTENTION', 'refund gave up');
    await finishOrder(em, id, 'COMPLETED');
    expect((await http.get(`/orders/${id}`)).body).toMatchObject({ status: 'COMPLETED', pointsUsed: 500 });
  });

  test('Of two reconcilers switching an order to a new saga instance, one wins', async () => {
    const { id } = await placed(randomUUID());
    const won = await Promise.all([
      switchWorkflow(em, id, id, `${id}-a`),
      switchWorkflow(em, id, id, `${id}-b`),
    ]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const { workflowId } = (await http.get(`/orders/${id}`)).body;
    expect([`${id}-a`, `${id}-b`]).toContain(workflowId);
    expect(await switchWorkflow(em, id, id, `${id}-c`)).toBe(false);
  });

  test('The reconciler’s pending orders: old enough, PENDING, with their instance and idle time', async () => {
    const { id } = await placed(randomUUID());
    const ended = await placed(randomUUID());
    await finishOrder(em, ended.id, 'COMPLETED');
    await em.fork().execute("update orders set created_at = now() - interval '1 hour'", []);
    await em
      .fork()
      .execute("update orders set updated_at = now() - interval '10 minutes' where id = ?", [id]);
    await em
      .fork()
      .execute("update order_steps set updated_at = now() - interval '5 minutes' where order_id = ?", [id]);
    const pending = await pendingOrders(em, 60_000, 10_000);
    const row = pending.find((p) => p.id === id);
    expect(row?.workflowId).toBe(id);
    // The newest change (a step, 5 minutes ago) counts.
    expect(row!.idleMs).toBeGreaterThan(290_000);
    expect(row!.idleMs).toBeLessThan(360_000);
    expect(pending.some((p) => p.id === ended.id)).toBe(false);
    expect(await pendingOrders(em, 2 * 3_600_000, 10_000)).toEqual([]);
  });

  test('An idempotency key is found among its own user’s orders only', async () => {
    const userId = randomUUID();
    const id = uuidv7();
    /** An order of this user under the key 'key-1'. */
    const keyed = (orderId: string) =>
      em.fork().transactional((tx) =>
        insertOrder(tx, {
          id: orderId,
          userId,
          couponId: null,
          pointsToUse: 0,
          totalAmount: 1000,
          idempotencyKey: 'key-1',
          requestHash: 'hash-1',
          lines: [{ ...product(1), quantity: 1 }],
          steps: STEPS.map((step) => ({ step, state: 'pending' })),
        }),
      );
    await keyed(id);
    expect(await findByIdempotencyKey(em, userId, 'key-1')).toEqual({ id, requestHash: 'hash-1' });
    expect(await findByIdempotencyKey(em, randomUUID(), 'key-1')).toBeNull();
    // A second order under the same key (two requests at once): the unique index refuses it as a
    // unique violation, which createOrder answers as a repeat.
    await expect(keyed(uuidv7())).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });

  test('Two top-ups under one key at once: one is made, the other answers it as a repeat', async () => {
    const userId = randomUUID();
    const [a, b] = await Promise.all([
      createTopUp(em, { userId, amount: 5000 }, 'top-up-key'),
      createTopUp(em, { userId, amount: 5000 }, 'top-up-key'),
    ]);
    expect(a.topUp.topUpId).toBe(b.topUp.topUpId);
    expect([a.created, b.created].sort()).toEqual([false, true]);
  });
});
