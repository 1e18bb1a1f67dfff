import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { consumeOnce, problemTypeUri } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { cartOrderCompletedHandler } from '../src/cart/order-completed.handler.ts';
import { productService } from '../src/service.ts';

/**
 * The cart on a real Postgres (the product service's migrations): one per
 * user, read with each product's live price, stock and status; emptied of
 * what a completed order bought, once per event.
 */

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  svc = await startServiceUnderTest('product', productService, {
    REDIS_URL: process.env.SHOP_TEST_REDIS_URL!,
    REDIS_KEY_PREFIX: `test-${randomUUID()}:`,
  });
  http = request(svc.app.callback());
});
afterAll(() => svc.close());

const newProduct = async (price: number, stock: number) =>
  (
    await http
      .post('/products')
      .send({ name: `Item ${randomUUID().slice(0, 6)}`, price, stock })
      .expect(201)
  ).body.id as string;
const cartOf = async (userId: string) => (await http.get(`/users/${userId}/cart`).expect(200)).body;
const add = (userId: string, productId: string, quantity?: number) =>
  http
    .post(`/users/${userId}/cart/lines`)
    .send({ productId, ...(quantity === undefined ? {} : { quantity }) });

describe('the cart', () => {
  test('When a user adds, changes and removes lines, then the cart holds them with live prices and a total, and another user’s cart is untouched', async () => {
    const [userId, other] = [randomUUID(), randomUUID()];
    const [mug, tea] = [await newProduct(12_000, 10), await newProduct(3_000, 50)];
    expect(await cartOf(userId)).toEqual({ userId, lines: [], total: 0, updatedAt: null });

    await add(userId, mug).expect(200);
    await add(userId, mug, 2).expect(200);
    const afterAdd = (await add(userId, tea, 4).expect(200)).body;
    expect(afterAdd.lines.map((l: any) => [l.productId, l.quantity, l.lineTotal, l.problem])).toEqual([
      [mug, 3, 36_000, null],
      [tea, 4, 12_000, null],
    ]);
    expect(afterAdd.total).toBe(48_000);

    await http.put(`/users/${userId}/cart/lines/${tea}`).send({ quantity: 1 }).expect(200);
    // The price is the product's now, not when the line was added.
    await http.patch(`/products/${mug}`).send({ price: 10_000 }).expect(200);
    expect((await cartOf(userId)).total).toBe(33_000);

    const removed = (await http.delete(`/users/${userId}/cart/lines/${mug}`).expect(200)).body;
    expect(removed.lines.map((l: any) => l.productId)).toEqual([tea]);
    await add(other, mug).expect(200);
    expect((await http.delete(`/users/${userId}/cart`).expect(200)).body.lines).toEqual([]);
    expect((await cartOf(other)).lines.map((l: any) => l.productId)).toEqual([mug]);
  });

  test('When a product is withdrawn or sells out, then its line says so and leaves the total', async () => {
    const userId = randomUUID();
    const [gone, scarce, fine] = [
      await newProduct(1_000, 5),
      await newProduct(2_000, 1),
      await newProduct(500, 9),
    ];
    await add(userId, gone).expect(200);
    await add(userId, scarce, 3).expect(200);
    await add(userId, fine, 2).expect(200);
    await http.patch(`/products/${gone}`).send({ status: 'INACTIVE' }).expect(200);
    const cart = await cartOf(userId);
    expect(cart.lines.map((l: any) => [l.productId, l.problem, l.inStock])).toEqual([
      [gone, 'unavailable', 5],
      [scarce, 'not-enough-stock', 1],
      [fine, null, 9],
    ]);
    expect(cart.total).toBe(1_000);
    // A withdrawn product is not added again.
    const refused = await add(userId, gone);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe(problemTypeUri('product-unavailable'));
  });

  test('When the input is wrong, then the answer is a problem document naming the field', async () => {
    const userId = randomUUID();
    const mug = await newProduct(1_000, 5);
    const unknown = await add(userId, randomUUID());
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'body.productId' })]);
    expect((await add(userId, mug, 0)).status).toBe(422);
    expect((await http.put(`/users/${userId}/cart/lines/${mug}`).send({ quantity: 1001 })).status).toBe(422);
    await add(userId, mug, 999).expect(200);
    const tooMany = await add(userId, mug, 2);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors).toEqual([expect.objectContaining({ field: 'body.quantity' })]);
    expect((await http.get('/users/not-a-uuid/cart')).status).toBe(422);
    expect((await cartOf(userId)).lines[0].quantity).toBe(999);
  });

  test('When an order placed from the cart completes, then the cart loses what it bought, once; a line raised since keeps the rest, and an order not from the cart changes nothing', async () => {
    const userId = randomUUID();
    const [mug, tea, pen] = [
      await newProduct(1_000, 20),
      await newProduct(500, 20),
      await newProduct(200, 20),
    ];
    await add(userId, mug, 2).expect(200);
    await add(userId, tea, 1).expect(200);
    const orderId = randomUUID();
    // What the saga's stock step takes for the order: the cart as it was at checkout.
    await http
      .post('/saga/stock/deduct')
      .send({
        orderId,
        items: [
          { productId: mug, quantity: 2 },
          { productId: tea, quantity: 1 },
        ],
      })
      .expect(200);
    // Meanwhile the buyer adds more.
    await add(userId, tea, 2).expect(200);
    await add(userId, pen, 1).expect(200);

    const handler = cartOrderCompletedHandler();
    const deliver = (eventId: string, data: Record<string, unknown>) =>
      consumeOnce(svc.orm.em, handler.consumer, eventId, (tx) =>
        handler.handle(tx, handler.data.parse(data), {} as never, undefined),
      );
    // An order placed with its own items: no cart named, nothing changes.
    await deliver(randomUUID(), { orderId });
    expect((await cartOf(userId)).lines).toHaveLength(3);

    const eventId = randomUUID();
    expect(await deliver(eventId, { orderId, userId, fromCart: true })).toBe(true);
    expect(await deliver(eventId, { orderId, userId, fromCart: true })).toBe(false);
    expect((await cartOf(userId)).lines.map((l: any) => [l.productId, l.quantity])).toEqual([
      [tea, 2],
      [pen, 1],
    ]);
  });
});
