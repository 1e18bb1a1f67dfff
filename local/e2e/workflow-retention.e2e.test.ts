/**
 * Ended workflows do not pile up: Dapr purges an ended saga's state from Redis
 * after the retention (components/config/config.yaml; the test platform keeps
 * a completed one 15 s), the order's own row keeps its progress, and a repeated
 * POST of an ended order whose workflow is gone does not run its saga again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from '@jest/globals';
import { eventually, viaGateway } from '@shop/testkit';
import { Redis } from 'ioredis';
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

    await eventually(
      'every ended workflow to be purged',
      async () => (await Promise.all(orders.map(workflowKeys))).every((keys) => keys.length === 0),
      90_000,
    );
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
    await eventually(
      'its workflow to be purged',
      async () => (await workflowKeys(first)).length === 0,
      90_000,
    );

    const again = await post();
    expect(again.status).toBe(202);
    expect(again.body.orderId).toBe(first);
    // Nothing scheduled: no workflow state comes back, and the stock was taken once.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await workflowKeys(first)).toEqual([]);
    expect(await stockOf(productId)).toBe(8);
  }, 180_000);
});
