/**
 * Ended workflows do not pile up: Dapr purges an ended saga's state from Redis
 * after the retention (components/config/config.yaml; the test platform keeps
 * a completed one 15 s), the order's own row keeps its progress, and a repeated
 * POST of an ended order whose workflow is gone does not run its saga again.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { eventually, services, viaGateway } from '@shop/testkit';
import { Redis } from 'ioredis';
import { LOGS } from '../src/paths.ts';
import { asBuyer, newProduct, newUser, placeOrder, settled } from './shop-fixtures.ts';

const redis = new Redis(process.env.SHOP_TEST_REDIS_URL!);
afterAll(() => redis.quit());

/** Every Redis key of the order's workflow and its activities (Dapr's actor state: `…||<instance id>…`). */
async function workflowKeys(orderId: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*||${orderId}*`, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/**
 * Waits until no workflow key of these orders is left; if that does not come,
 * fails with what Dapr did instead (CI keeps no logs): the keys left, the
 * order sidecar's purge counts and its log lines about retention or errors.
 */
async function purged(what: string, orderIds: string[]): Promise<void> {
  const left = async () =>
    (await Promise.all(orderIds.map(async (id) => [id, await workflowKeys(id)] as const))).filter(
      ([, keys]) => keys.length > 0,
    );
  try {
    await eventually(what, async () => (await left()).length === 0, 90_000);
  } catch (err) {
    const still = await left();
    const metrics = await fetch(`http://127.0.0.1:${services.order.daprMetricsPort}/metrics`)
      .then((r) => r.text())
      .catch((e: Error) => e.message);
    const purges = metrics.split('\n').filter((l) => l.includes('purge') && !l.startsWith('#'));
    const logLines = readFileSync(join(LOGS, 'order-dapr.log'), 'utf8')
      .split('\n')
      .filter((l) => /retention|purge|level=(error|fatal)|exited/i.test(l))
      .slice(-15);
    throw new Error(
      [
        (err as Error).message,
        `${still.length} of ${orderIds.length} still hold keys, e.g. ${still[0]?.[1].slice(0, 5).join(' ')}`,
        `the order sidecar's purges: ${purges.join('; ') || 'none counted'}`,
        `order-dapr.log:`,
        ...logLines,
      ].join('\n'),
    );
  }
}

/** What the progress view shows of each step (its time moves when a step is recorded again). */
const progress = (order: {
  steps: { step: string; state: string; attempts: number; detail: string | null }[];
}) => order.steps.map(({ step, state, attempts, detail }) => ({ step, state, attempts, detail }));

const stockOf = async (productId: string) =>
  (await viaGateway('GET', `/products/${productId}/stock`)).body.quantity;

describe('the retention of ended workflows', () => {
  test('When many orders end, completed or failed, then each one’s workflow state leaves Redis after the retention, and every order still shows its steps', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(1000, 100);
    const orders = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(
          { userId, items: [{ productId, quantity: 1 }] },
          i % 4 === 0 ? { 'x-fake-gateway': 'fail' } : {},
        ),
      ),
    );
    const ended = await Promise.all(orders.map(settled));
    expect(ended.filter((o) => o.status === 'COMPLETED')).toHaveLength(15);
    expect(ended.filter((o) => o.status === 'FAILED')).toHaveLength(5);
    // Kept until the retention has passed: the keys are the workflows' (the match is right).
    expect((await workflowKeys(orders[1]!)).length).toBeGreaterThan(0);

    await purged('every ended workflow to be purged', orders);
    for (const [i, orderId] of orders.entries()) {
      const order = (await asBuyer(userId, 'GET', `/orders/${orderId}`)).body;
      expect(order.status).toBe(ended[i]!.status);
      expect(progress(order)).toEqual(progress(ended[i]!));
    }
  }, 180_000);

  test('When an ended order is posted again with its idempotency key after its workflow was purged, then its saga does not run again', async () => {
    const userId = await newUser(0);
    const productId = await newProduct(1000, 10);
    const body = { userId, items: [{ productId, quantity: 2 }] };
    const key = `order-${randomUUID()}`;
    const post = () => asBuyer(userId, 'POST', '/orders', body, { 'idempotency-key': key });
    const first = (await post()).body.orderId as string;
    const ended = await eventually('the order to end', async () => {
      const order = (await asBuyer(userId, 'GET', `/orders/${first}`)).body;
      return order.status !== 'PENDING' ? order : undefined;
    });
    expect(ended.status).toBe('COMPLETED');
    await purged('its workflow to be purged', [first]);

    const again = await post();
    expect(again.status).toBe(202);
    expect(again.body.orderId).toBe(first);
    // Nothing scheduled: no workflow state comes back, and the stock was taken once.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await workflowKeys(first)).toEqual([]);
    expect(await stockOf(productId)).toBe(8);
  }, 180_000);
});
