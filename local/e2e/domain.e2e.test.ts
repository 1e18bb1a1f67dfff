/**
 * The user, product and payment services on the real stack: their saga steps
 * called through Dapr service invocation (as the order saga calls them), their
 * events reaching Kafka through the outbox, the ranking fed by OrderCompleted,
 * and the demo data `npm start` loads.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, jest, test } from '@jest/globals';
import { problemTypeUri, uuidv7 } from '@shop/platform';
import { call, eventually, findOnKafka, insiderHeaders, invoke, services } from '@shop/testkit';
import { DEMO_ADMIN_HEADERS } from '../src/api-tokens.ts';

jest.setTimeout(120_000);

const KEYBOARD = '0190c0de-0000-7000-8000-000000000001';
const MINJI = '0190c0de-0000-7000-8000-0000000000a1';

async function newUser(points: number): Promise<string> {
  const user = await invoke('order', 'user', 'POST', 'users', {
    email: `${randomUUID()}@example.com`,
    name: 'E2E',
  });
  expect(user.status).toBe(201);
  const granted = await call(
    'POST',
    `${services.user.daprUrl}/v1.0/invoke/user/method/users/${user.body.id}/points/grants`,
    { amount: points, reason: 'an end-to-end test buyer', idempotencyKey: `e2e-${randomUUID()}` },
    DEMO_ADMIN_HEADERS,
  );
  expect(granted.status).toBe(200);
  return user.body.id;
}

async function newProduct(stock: number): Promise<{ id: string; name: string }> {
  const res = await invoke('order', 'product', 'POST', 'products', {
    name: `E2E ${randomUUID().slice(0, 6)}`,
    price: 1000,
    stock,
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe('demo data loaded by npm start', () => {
  test('When the platform is up, then the catalog has stock and the demo users have points', async () => {
    const product = await invoke('order', 'product', 'GET', `products/${KEYBOARD}`);
    expect(product.body).toMatchObject({ name: 'Mechanical keyboard', price: 129_000, status: 'ACTIVE' });
    const list = await invoke('order', 'product', 'GET', 'products?status=ACTIVE&size=100');
    expect(list.body.total).toBeGreaterThanOrEqual(8);
    const points = await invoke('order', 'user', 'GET', `users/${MINJI}/points`);
    expect(points.body.balance).toBeGreaterThanOrEqual(0);
    expect((await invoke('order', 'user', 'GET', `users/${MINJI}`)).body.email).toBe('minji@example.com');
  });
});

describe('user: points through the sidecar', () => {
  test('When the saga deducts and refunds through Dapr, twice each, then each happens once and PointsUsed reaches Kafka', async () => {
    const userId = await newUser(10_000);
    const orderId = randomUUID();
    const first = await invoke('order', 'user', 'POST', 'saga/points/deduct', {
      orderId,
      userId,
      amount: 2500,
    });
    expect(first.status).toBe(200);
    expect(
      (await invoke('order', 'user', 'POST', 'saga/points/deduct', { orderId, userId, amount: 2500 })).body,
    ).toEqual(first.body);
    expect((await invoke('order', 'user', 'GET', `users/${userId}/points`)).body.balance).toBe(7500);

    const short = await invoke('order', 'user', 'POST', 'saga/points/deduct', {
      orderId: randomUUID(),
      userId,
      amount: 999_999,
    });
    expect(short.status).toBe(409);
    expect(short.body.type).toBe(problemTypeUri('insufficient-points'));

    const refund = await invoke('order', 'user', 'POST', 'saga/points/refund', { orderId, userId });
    expect((await invoke('order', 'user', 'POST', 'saga/points/refund', { orderId, userId })).body).toEqual(
      refund.body,
    );
    expect((await invoke('order', 'user', 'GET', `users/${userId}/points`)).body.balance).toBe(10_000);

    const event = await findOnKafka(
      'user-events',
      (e) => e.type === 'PointsUsed' && e.data?.orderId === orderId,
    );
    expect(event).toMatchObject({ subject: userId, data: { userId, orderId, ledgerEntryId: first.body.id } });
  });
});

describe('product: stock through the sidecar', () => {
  test('When the saga deducts and restores through Dapr, twice each, then each happens once and StockDeducted reaches Kafka', async () => {
    const product = await newProduct(5);
    const orderId = randomUUID();
    const items = [{ productId: product.id, quantity: 2 }];
    const first = await invoke('order', 'product', 'POST', 'saga/stock/deduct', { orderId, items });
    expect(first.body).toEqual({ orderId, status: 'DEDUCTED', items });
    expect((await invoke('order', 'product', 'POST', 'saga/stock/deduct', { orderId, items })).body).toEqual(
      first.body,
    );
    expect((await invoke('order', 'product', 'GET', `products/${product.id}/stock`)).body.quantity).toBe(3);

    const short = await invoke('order', 'product', 'POST', 'saga/stock/deduct', {
      orderId: randomUUID(),
      items: [{ productId: product.id, quantity: 4 }],
    });
    expect(short.body).toMatchObject({ status: 409, type: problemTypeUri('out-of-stock'), available: 3 });

    await invoke('order', 'product', 'POST', 'saga/stock/restore', { orderId });
    await invoke('order', 'product', 'POST', 'saga/stock/restore', { orderId });
    expect((await invoke('order', 'product', 'GET', `products/${product.id}/stock`)).body.quantity).toBe(5);

    const event = await findOnKafka(
      'product-events',
      (e) => e.type === 'StockDeducted' && e.subject === orderId,
    );
    expect(event.data).toEqual({ orderId, productIds: [product.id] });
  });

  test('When OrderCompleted arrives over Kafka twice, then the ranking counts the order once', async () => {
    // Large quantities: the ranking is shared with everything sold today, and only its top 100 is read.
    const product = await newProduct(50_000);
    const orderId = randomUUID();
    await invoke('order', 'product', 'POST', 'saga/stock/deduct', {
      orderId,
      items: [{ productId: product.id, quantity: 9_000 }],
    });
    const completed = {
      specversion: '1.0',
      id: uuidv7(),
      type: 'OrderCompleted',
      source: 'order',
      subject: orderId,
      datacontenttype: 'application/json',
      data: { orderId },
    };
    // Published as the order service will: through its sidecar, onto order-events.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(
        `${services.order.daprUrl}/v1.0/publish/pubsub/order-events?metadata.partitionKey=${orderId}`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents+json',
            ...insiderHeaders(services.order.daprUrl),
          },
          body: JSON.stringify(completed),
        },
      );
      expect(res.status).toBe(204);
    }
    const ranked = await eventually('the sale in the ranking', async () => {
      const r = await invoke('order', 'product', 'GET', 'products/ranking?days=1&limit=100');
      return r.body.items.find((i: { productId: string }) => i.productId === product.id);
    });
    expect(ranked).toMatchObject({ name: product.name, sold: 9_000 });
    // A later event on the same key is delivered after both copies; by then the count must still be 7.
    const marker = await newProduct(50_000);
    const markerOrder = randomUUID();
    await invoke('order', 'product', 'POST', 'saga/stock/deduct', {
      orderId: markerOrder,
      items: [{ productId: marker.id, quantity: 9_000 }],
    });
    await fetch(
      `${services.order.daprUrl}/v1.0/publish/pubsub/order-events?metadata.partitionKey=${orderId}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json',
          ...insiderHeaders(services.order.daprUrl),
        },
        body: JSON.stringify({ ...completed, id: uuidv7(), data: { orderId: markerOrder } }),
      },
    );
    await eventually('the marker sale', async () => {
      const r = await invoke('order', 'product', 'GET', 'products/ranking?days=1&limit=100');
      return r.body.items.find((i: { productId: string }) => i.productId === marker.id);
    });
    const after = await invoke('order', 'product', 'GET', 'products/ranking?days=1&limit=100');
    expect(after.body.items.find((i: { productId: string }) => i.productId === product.id).sold).toBe(9_000);
  });
});

describe('payment: the fake gateway through the sidecar', () => {
  test('When the saga starts and completes a payment through Dapr, twice each, then it is COMPLETED once and PaymentCompleted reaches Kafka', async () => {
    const orderId = randomUUID();
    const started = await invoke('order', 'payment', 'POST', 'saga/payments/start', {
      orderId,
      amount: 42_000,
    });
    expect(started.body).toMatchObject({ orderId, amount: 42_000, status: 'STARTED' });
    expect(
      (await invoke('order', 'payment', 'POST', 'saga/payments/start', { orderId, amount: 42_000 })).body,
    ).toEqual(started.body);
    const completed = await invoke('order', 'payment', 'POST', 'saga/payments/complete', { orderId });
    expect((await invoke('order', 'payment', 'POST', 'saga/payments/complete', { orderId })).body).toEqual(
      completed.body,
    );
    expect((await invoke('order', 'payment', 'GET', `payments/${orderId}`)).body.status).toBe('COMPLETED');
    await findOnKafka('payment-events', (e) => e.type === 'PaymentCompleted' && e.subject === orderId);
  });

  test('When a decline is asked for through the sidecar, then the header passes through Dapr and the payment is FAILED', async () => {
    const orderId = randomUUID();
    const res = await call(
      'POST',
      `${services.order.daprUrl}/v1.0/invoke/payment/method/saga/payments/start`,
      { orderId, amount: 1000 },
      { 'x-fake-gateway': 'fail' },
    );
    expect(res.status).toBe(409);
    expect(res.body.type).toBe(problemTypeUri('payment-declined'));
    expect((await invoke('order', 'payment', 'GET', `payments/${orderId}`)).body.status).toBe('FAILED');
  });
});
