/**
 * The completed orders' export to the data platform, end to end: the order
 * service consumes its own OrderCompleted from Kafka, queues the order's
 * record and sends it to the fake data platform (on loopback beside the
 * order process), which deduplicates on the idempotency key. The platform
 * away never holds up an order; once it is back it gets every record, once.
 */
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { dataPlatform, eventually } from '@shop/testkit';
import { appUrl, asBuyer, asOps, newProduct, newUser, placeOrder, settled } from './shop-fixtures.ts';

async function setPlatformFault(fault: string | null): Promise<void> {
  const res = await fetch(`${dataPlatform.url}/fault`, { method: 'PUT', body: JSON.stringify({ fault }) });
  expect(res.status).toBe(200);
}

/** What the fake platform holds for an order: its records (one, when all is well) and how often each came. */
async function heldFor(orderIds: string[]): Promise<Map<string, { deliveries: number; record: any }[]>> {
  const { records } = (await (await fetch(`${dataPlatform.url}/records`)).json()) as {
    records: { record: { orderId: string }; deliveries: number }[];
  };
  return new Map(orderIds.map((id) => [id, records.filter((r) => r.record.orderId === id)]));
}

const exportOf = async (orderId: string) => (await asOps('GET', `/ops/order/exports/${orderId}`)).body;

async function metric(series: string): Promise<number> {
  const page = await (await fetch(appUrl('order', '/metrics'))).text();
  const line = page.split('\n').find((l) => l.startsWith(series));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

jest.setTimeout(180_000);
afterEach(() => setPlatformFault(null));

describe('the export of completed orders to the data platform', () => {
  test('When the platform is down while orders run, then every order still completes, the backlog shows on /metrics, and once it is back it holds each completed order once and no failed one', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(2000, 100);
    await setPlatformFault('unavailable');
    const orders = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        placeOrder(
          { userId, items: [{ productId, quantity: 1 + (i % 3) }] },
          i % 4 === 3 ? { 'x-fake-gateway': 'fail' } : {},
        ),
      ),
    );
    // The platform away holds up no order.
    const ended = await Promise.all(orders.map(settled));
    const completed = ended.filter((o) => o.status === 'COMPLETED');
    const failed = ended.filter((o) => o.status === 'FAILED');
    expect([completed.length, failed.length]).toEqual([6, 2]);

    await eventually('every completed order’s export to have been tried', async () =>
      (await Promise.all(completed.map((o) => exportOf(o.orderId)))).every(
        (x) => x.status === 'PENDING' && x.attempts >= 2 && /503/.test(x.lastError),
      ),
    );
    expect(await metric('order_exports_unsent{status="PENDING"')).toBeGreaterThanOrEqual(6);
    expect(await metric('order_export_oldest_pending_age_seconds')).toBeGreaterThan(0);
    // Then the connections are cut without an answer for a while.
    await setPlatformFault('reset');
    await new Promise((r) => setTimeout(r, 3000));
    expect([...(await heldFor(orders)).values()].every((records) => records.length === 0)).toBe(true);

    await setPlatformFault(null);
    await eventually(
      'every completed order to be exported',
      async () =>
        (await Promise.all(completed.map((o) => exportOf(o.orderId)))).every((x) => x.status === 'SENT'),
      60_000,
    );
    const held = await heldFor(orders);
    for (const o of completed) {
      const records = held.get(o.orderId)!;
      expect(records).toHaveLength(1);
      expect(records[0]!.record).toMatchObject({
        orderId: o.orderId,
        userId,
        status: 'COMPLETED',
        totalAmount: o.totalAmount,
        paymentAmount: o.paymentAmount,
        items: o.items,
      });
    }
    for (const o of failed) {
      expect(held.get(o.orderId)).toEqual([]);
      expect((await asOps('GET', `/ops/order/exports/${o.orderId}`)).status).toBe(404);
    }
  });

  test('When the platform refuses a record, then its export is DEAD and on /metrics, and an operator re-drives it once the cause is fixed; a customer may not', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(1500, 10);
    await setPlatformFault('refuse');
    const orderId = await placeOrder({ userId, items: [{ productId, quantity: 1 }] });
    expect((await settled(orderId)).status).toBe('COMPLETED');
    await eventually('the export to be DEAD', async () => (await exportOf(orderId)).status === 'DEAD');
    expect((await exportOf(orderId)).lastError).toMatch(/422/);
    expect(await metric('order_exports_unsent{status="DEAD"')).toBeGreaterThanOrEqual(1);
    const dead = (await asOps('GET', '/ops/order/exports?status=DEAD')).body.items;
    expect(dead.map((x: { orderId: string }) => x.orderId)).toContain(orderId);

    expect((await asBuyer(userId, 'POST', `/ops/order/exports/${orderId}/redrive`)).status).toBe(403);
    await setPlatformFault(null);
    const redrive = await asOps('POST', `/ops/order/exports/${orderId}/redrive`);
    expect(redrive.status).toBe(202);
    expect(redrive.body.status).toBe('PENDING');
    await eventually(
      'the re-driven export to be sent',
      async () => (await exportOf(orderId)).status === 'SENT',
    );
    expect((await heldFor([orderId])).get(orderId)).toEqual([expect.objectContaining({ deliveries: 1 })]);
  });
});
