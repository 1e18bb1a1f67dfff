import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { problemTypeUri, uuidv7 } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { productService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;
let redis: Redis;

// Its own Redis keys: the ranking is one key per day, shared with anything else on this Redis.
const prefix = `test-${randomUUID()}:`;

beforeAll(async () => {
  svc = await startServiceUnderTest('product', productService, {
    REDIS_URL: process.env.SHOP_TEST_REDIS_URL!,
    REDIS_KEY_PREFIX: prefix,
  });
  http = request(svc.app.callback());
  redis = new Redis(process.env.SHOP_TEST_REDIS_URL!, { keyPrefix: prefix });
});
afterAll(async () => {
  await redis.quit();
  await svc.close();
});

const newProduct = async (stock: number, overrides: Record<string, unknown> = {}) =>
  (
    await http
      .post('/products')
      .send({ name: `Product ${randomUUID().slice(0, 8)}`, price: 10_000, stock, ...overrides })
      .expect(201)
  ).body;
const stockOf = async (id: string) => (await http.get(`/products/${id}/stock`)).body.quantity;
const deduct = (orderId: string, items: { productId: string; quantity: number }[]) =>
  http.post('/saga/stock/deduct').send({ orderId, items });
const restore = (orderId: string) => http.post('/saga/stock/restore').send({ orderId });

describe('catalog', () => {
  test('When a product is created and read, then it has its stock, and an update is seen at once despite the cache', async () => {
    const product = await newProduct(7, { price: 25_000 });
    expect(product).toMatchObject({ price: 25_000, status: 'ACTIVE', stock: 7 });
    expect((await http.get(`/products/${product.id}`)).body).toEqual(product);
    expect(await redis.exists(`product:${product.id}`)).toBe(1);

    const updated = await http.patch(`/products/${product.id}`).send({ price: 19_000, name: 'Renamed' });
    expect(updated.body).toMatchObject({ price: 19_000, name: 'Renamed' });
    expect((await http.get(`/products/${product.id}`)).body).toMatchObject({
      price: 19_000,
      name: 'Renamed',
    });
    const events = await svc.orm.em
      .fork()
      .execute<{ event_type: string }[]>('select event_type from outbox where subject = ? order by id', [
        product.id,
      ]);
    expect(events.map((e) => e.event_type)).toEqual(['ProductCreated', 'ProductUpdated']);
  });

  test('When products are listed by status, then only those come, paged', async () => {
    const inactive = await newProduct(1, { status: 'INACTIVE' });
    const page = await http.get('/products?status=INACTIVE&size=100');
    expect(page.body.items.map((p: { id: string }) => p.id)).toContain(inactive.id);
    expect(page.body.items.every((p: { status: string }) => p.status === 'INACTIVE')).toBe(true);
    expect((await http.get('/products?status=GONE')).status).toBe(422);
  });

  test('When input is wrong, then it is a 4xx problem naming it', async () => {
    expect(
      (await http.post('/products').send({ name: '', price: -5 })).body.errors
        .map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['body.name', 'body.price']);
    expect((await http.patch(`/products/${randomUUID()}`).send({ price: 1 })).status).toBe(404);
    expect((await http.patch(`/products/${randomUUID()}`).send({})).status).toBe(422);
    expect((await http.get(`/products/${randomUUID()}`)).body.type).toBe(problemTypeUri('product-not-found'));
  });
});

describe('saga steps: deductStock and restoreStock', () => {
  test('When an order deducts twice, then stock is taken once and the first result is returned', async () => {
    const a = await newProduct(10);
    const b = await newProduct(10);
    const orderId = randomUUID();
    const first = await deduct(orderId, [
      { productId: a.id, quantity: 2 },
      { productId: b.id, quantity: 3 },
      { productId: a.id, quantity: 1 },
    ]);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('DEDUCTED');
    expect(
      (
        await deduct(orderId, [
          { productId: a.id, quantity: 3 },
          { productId: b.id, quantity: 3 },
        ])
      ).body,
    ).toEqual(first.body);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([7, 7]);
  });

  test('When one line is short, then nothing is taken and the refusal names it', async () => {
    const a = await newProduct(10);
    const b = await newProduct(1);
    const res = await deduct(randomUUID(), [
      { productId: a.id, quantity: 5 },
      { productId: b.id, quantity: 2 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: problemTypeUri('out-of-stock'),
      productId: b.id,
      available: 1,
      asked: 2,
    });
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 1]);
  });

  test('When a product is inactive or unknown, then the deduction is refused', async () => {
    const inactive = await newProduct(5, { status: 'INACTIVE' });
    expect((await deduct(randomUUID(), [{ productId: inactive.id, quantity: 1 }])).body.type).toBe(
      problemTypeUri('product-unavailable'),
    );
    expect((await deduct(randomUUID(), [{ productId: randomUUID(), quantity: 1 }])).status).toBe(404);
  });

  test('When an order is restored twice, then exactly what it took comes back once', async () => {
    const a = await newProduct(10);
    const orderId = randomUUID();
    await deduct(orderId, [{ productId: a.id, quantity: 4 }]).expect(200);
    const first = await restore(orderId);
    expect(first.body).toEqual({ orderId, status: 'RESTORED', items: [{ productId: a.id, quantity: 4 }] });
    expect((await restore(orderId)).body).toEqual(first.body);
    expect(await stockOf(a.id)).toBe(10);
  });

  test('When the deduction is asked again after its restore (a re-run of a half-compensated saga), then it is refused and takes nothing', async () => {
    const a = await newProduct(10);
    const orderId = randomUUID();
    await deduct(orderId, [{ productId: a.id, quantity: 4 }]).expect(200);
    await restore(orderId).expect(200);
    const again = await deduct(orderId, [{ productId: a.id, quantity: 4 }]);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe(problemTypeUri('stock-already-restored'));
    expect(await stockOf(a.id)).toBe(10);
  });

  test('When the restore comes before the deduction, then nothing moves and the late deduction is refused', async () => {
    const a = await newProduct(10);
    const orderId = randomUUID();
    expect((await restore(orderId)).body).toEqual({ orderId, status: 'RESTORED', items: [] });
    expect((await deduct(orderId, [{ productId: a.id, quantity: 1 }])).status).toBe(409);
    expect(await stockOf(a.id)).toBe(10);
  });

  test('When many orders race for the last units of one product, then exactly the stock is sold', async () => {
    const hot = await newProduct(10);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => deduct(randomUUID(), [{ productId: hot.id, quantity: 1 }])),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(
      results.filter((r) => r.status !== 200).every((r) => r.body.type === problemTypeUri('out-of-stock')),
    ).toBe(true);
    expect(await stockOf(hot.id)).toBe(0);
  });
});

describe('sales ranking', () => {
  const orderCompleted = (id: string, orderId: string, time = new Date().toISOString()) =>
    http
      .post('/events/order-events')
      .set('content-type', 'application/cloudevents+json')
      .send(
        JSON.stringify({
          specversion: '1.0',
          id,
          type: 'OrderCompleted',
          source: 'order',
          subject: orderId,
          time,
          data: { orderId },
        }),
      );

  test('When OrderCompleted is delivered twice, then the sale counts once', async () => {
    const a = await newProduct(100);
    const b = await newProduct(100);
    const orderId = randomUUID();
    await deduct(orderId, [
      { productId: a.id, quantity: 3 },
      { productId: b.id, quantity: 1 },
    ]).expect(200);
    const eventId = uuidv7();
    expect((await orderCompleted(eventId, orderId)).body).toEqual({ status: 'SUCCESS' });
    expect((await orderCompleted(eventId, orderId)).body).toEqual({ status: 'SUCCESS' });

    const ranking = (await http.get('/products/ranking?days=1&limit=100')).body.items;
    expect(ranking.find((r: { productId: string }) => r.productId === a.id)).toMatchObject({
      sold: 3,
      name: a.name,
    });
    expect(ranking.find((r: { productId: string }) => r.productId === b.id)).toMatchObject({ sold: 1 });
  });

  test('When sales span days, then the ranking merges the days asked for', async () => {
    const a = await newProduct(100);
    const b = await newProduct(100);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    const o1 = randomUUID();
    const o2 = randomUUID();
    await deduct(o1, [{ productId: a.id, quantity: 5 }]).expect(200);
    await deduct(o2, [
      { productId: b.id, quantity: 4 },
      { productId: a.id, quantity: 1 },
    ]).expect(200);
    await orderCompleted(uuidv7(), o1, yesterday).expect(200);
    await orderCompleted(uuidv7(), o2).expect(200);

    const sold = async (days: number, id: string) =>
      (await http.get(`/products/ranking?days=${days}&limit=100`)).body.items.find(
        (r: { productId: string }) => r.productId === id,
      )?.sold;
    expect(await sold(1, a.id)).toBe(1);
    expect(await sold(2, a.id)).toBe(6);
    expect(await sold(2, b.id)).toBe(4);
    expect((await http.get('/products/ranking?days=0')).status).toBe(422);
  });
});
