import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import {
  consumeOnce,
  createLogger,
  type EntityManager,
  type EventHandler,
  NotFoundError,
  sweepRetention,
  uuidv7,
} from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { db } from '../src/db/entities.ts';
import { type ExporterOptions, idempotencyKeyOf, OrderExporter } from '../src/export/exporter.ts';
import { findExport, sentExportsRetention } from '../src/export/exports.ts';
import { FakeDataPlatform } from '../src/export/fake-data-platform.ts';
import { orderExportHandler } from '../src/export/order-completed.handler.ts';
import { STEPS } from '../src/orders/order.model.ts';
import { findOrder, insertOrder } from '../src/orders/order.repository.ts';
import { finishOrder } from '../src/orders/order-progress.ts';
import { orderService } from '../src/service.ts';

/**
 * The export of completed orders on a real Postgres, to the fake data
 * platform over real HTTP on loopback: the OrderCompleted consumer queues
 * each record once, the exporter sends it at least once, the platform holds
 * it once, whatever the platform does meanwhile.
 */

let svc: ServiceUnderTest;
let em: EntityManager;
const platform = new FakeDataPlatform({ faultsEnabled: true });
let platformUrl: string;
const log = createLogger('order-export-test', 'silent');

beforeAll(async () => {
  svc = await startServiceUnderTest('order', orderService);
  em = svc.orm.em;
  platformUrl = await platform.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await platform.close();
  await svc.close();
});
afterEach(() => setFault(null));

const base = () => platformUrl.replace(/\/records$/, '');
async function setFault(fault: string | null) {
  const res = await fetch(`${base()}/fault`, { method: 'PUT', body: JSON.stringify({ fault }) });
  expect(res.status).toBe(200);
}
async function held(): Promise<{ records: { key: string; record: any; deliveries: number }[] }> {
  return (await fetch(`${base()}/records`)).json() as never;
}

const exporter = (options: Partial<ExporterOptions> = {}) =>
  new OrderExporter(em, log, {
    url: platformUrl,
    timeoutMs: 1000,
    attempts: 5,
    firstBackoffMs: 1,
    maxBackoffMs: 1,
    pollMs: 50,
    batchSize: 50,
    ...options,
  });

/** A completed order, its OrderCompleted consumed by the export handler (through the inbox). */
async function completedOrder(): Promise<string> {
  const id = uuidv7();
  await em.fork().transactional((tx) =>
    insertOrder(tx, {
      id,
      userId: randomUUID(),
      couponId: null,
      pointsToUse: 0,
      totalAmount: 3000,
      idempotencyKey: null,
      requestHash: null,
      lines: [{ productId: randomUUID(), productName: 'Mug', unitPrice: 1500, quantity: 2 }],
      steps: STEPS.map((step) => ({ step, state: step === 'useCoupon' ? 'skipped' : 'done' })),
    }),
  );
  await finishOrder(em, id, 'COMPLETED');
  await consume(orderExportHandler(em), id, randomUUID());
  return id;
}

async function consume(handler: EventHandler, orderId: string, eventId: string) {
  const prepared = await handler.prepare!({ orderId }, {} as never);
  return consumeOnce(em, handler.consumer, eventId, (tx) =>
    handler.handle(tx, { orderId }, {} as never, prepared),
  );
}

/** Passes until nothing is due (or `passes` ran). */
async function drain(e: OrderExporter, passes = 20) {
  for (let i = 0; i < passes; i++) {
    await e.runOnce();
    const [{ n }] = (await db(em.fork())
      .selectFrom('order_exports')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'PENDING')
      .execute()) as [{ n: string }];
    if (Number(n) === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const heldFor = async (orderId: string) =>
  (await held()).records.filter((r) => r.key === idempotencyKeyOf(orderId));

describe('the export of completed orders', () => {
  test('When an order completes, then the platform receives its denormalised record once, under its idempotency key, and the export is SENT', async () => {
    const orderId = await completedOrder();
    // The event again (a redelivery) queues nothing more.
    await consume(orderExportHandler(em), orderId, randomUUID());
    await drain(exporter());

    const [got, ...more] = await heldFor(orderId);
    expect(more).toHaveLength(0);
    expect(got!.deliveries).toBe(1);
    const order = await findOrder(em, orderId);
    expect(got!.record).toEqual({
      orderId,
      userId: order.userId,
      status: 'COMPLETED',
      couponId: null,
      totalAmount: 3000,
      discount: 0,
      pointsUsed: 0,
      paymentAmount: 3000,
      items: order.items,
      placedAt: order.createdAt,
      completedAt: order.updatedAt,
    });
    expect(await findExport(em, orderId)).toMatchObject({ status: 'SENT', attempts: 1, lastError: null });
  });

  test('When the platform is unavailable, then each export waits PENDING with its error and attempts, and is sent once the platform is back', async () => {
    const orders = await Promise.all([completedOrder(), completedOrder(), completedOrder()]);
    await setFault('unavailable');
    const e = exporter({ attempts: 20 });
    await e.runOnce();
    await e.runOnce();
    for (const orderId of orders) {
      const x = await findExport(em, orderId);
      expect(x.status).toBe('PENDING');
      expect(x.lastError).toMatch(/503/);
      expect(x.attempts).toBeGreaterThanOrEqual(1);
      expect(await heldFor(orderId)).toHaveLength(0);
    }
    await setFault('reset');
    await e.runOnce();
    expect((await findExport(em, orders[0]!)).status).toBe('PENDING');

    await setFault(null);
    await drain(e);
    for (const orderId of orders) {
      expect(await heldFor(orderId)).toEqual([expect.objectContaining({ deliveries: 1 })]);
      expect((await findExport(em, orderId)).status).toBe('SENT');
    }
  });

  test('When the platform takes a record but answers too late, then it is sent again and the platform still holds it once', async () => {
    const orderId = await completedOrder();
    await setFault('slow:600');
    const e = exporter({ timeoutMs: 200 });
    await e.runOnce();
    expect((await findExport(em, orderId)).lastError).toMatch(/timeout|aborted/i);
    await setFault(null);
    await drain(e);
    expect(await heldFor(orderId)).toEqual([expect.objectContaining({ deliveries: 2 })]);
    expect((await findExport(em, orderId)).status).toBe('SENT');
  });

  test('When attempts run out, or the platform refuses a record, then the export is DEAD, and a re-drive sends it', async () => {
    const outOfAttempts = await completedOrder();
    await setFault('unavailable');
    await drain(exporter({ attempts: 3 }), 10);
    expect(await findExport(em, outOfAttempts)).toMatchObject({ status: 'DEAD', attempts: 3 });
    expect((await findExport(em, outOfAttempts)).lastError).toMatch(/503/);

    const refused = await completedOrder();

    await setFault('refuse');
    const e = exporter({ attempts: 10 });
    await drain(e);
    // A refusal is not tried again: one attempt, dead.
    expect(await findExport(em, refused)).toMatchObject({ status: 'DEAD', attempts: 1 });
    expect((await findExport(em, refused)).lastError).toMatch(/422/);

    await setFault(null);
    const ops = request(svc.app.callback());
    for (const orderId of [outOfAttempts, refused]) {
      const redrive = await ops.post(`/ops/exports/${orderId}/redrive`);
      expect(redrive.status).toBe(202);
      expect(redrive.body).toMatchObject({ orderId, status: 'PENDING', attempts: 0 });
    }
    await drain(e);
    for (const orderId of [outOfAttempts, refused]) {
      expect((await findExport(em, orderId)).status).toBe('SENT');
      expect(await heldFor(orderId)).toEqual([expect.objectContaining({ deliveries: 1 })]);
    }
    const dead = await ops.get('/ops/exports?status=DEAD');
    expect(dead.body.items.map((x: { orderId: string }) => x.orderId)).not.toContain(refused);
    expect((await ops.post(`/ops/exports/${randomUUID()}/redrive`)).status).toBe(404);
    expect((await ops.get('/ops/exports?status=LOST')).status).toBe(422);
  });

  test('When two exporters (two replicas) run side by side, then every record is sent exactly once', async () => {
    const orders = await Promise.all(Array.from({ length: 30 }, () => completedOrder()));
    const [a, b] = [exporter({ batchSize: 4 }), exporter({ batchSize: 4 })];
    await Promise.all([drain(a, 40), drain(b, 40)]);
    for (const orderId of orders)
      expect(await heldFor(orderId)).toEqual([expect.objectContaining({ deliveries: 1 })]);
  });

  test('When sent records are past their retention, then the sweep deletes them, and keeps every one not yet sent', async () => {
    const [sentLongAgo, sentLately, dead] = await Promise.all([
      completedOrder(),
      completedOrder(),
      completedOrder(),
    ]);
    await drain(exporter());
    await db(em.fork())
      .updateTable('order_exports')
      .set({ sent_at: new Date(Date.now() - 8 * 86_400_000) })
      .where('order_id', '=', sentLongAgo)
      .execute();
    await db(em.fork())
      .updateTable('order_exports')
      .set({ status: 'DEAD', sent_at: null, created_at: new Date(Date.now() - 90 * 86_400_000) })
      .where('order_id', '=', dead)
      .execute();

    const deleted = await sweepRetention(em, [sentExportsRetention(168)]);
    expect(deleted.order_exports).toBeGreaterThanOrEqual(1);
    await expect(findExport(em, sentLongAgo)).rejects.toThrow(NotFoundError);
    expect((await findExport(em, sentLately)).status).toBe('SENT');
    expect((await findExport(em, dead)).status).toBe('DEAD');
    // The order itself is untouched.
    expect((await findOrder(em, sentLongAgo)).status).toBe('COMPLETED');
  });
});
