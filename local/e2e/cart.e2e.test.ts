/**
 * The cart, kept by the product service, through the gateway: its owner's
 * only, ordered from with `POST /orders {fromCart: true}`, emptied of what an
 * order bought once that order completes (the product service consumes
 * OrderCompleted), kept as it was when the order fails.
 */
import { describe, expect, jest, test } from '@jest/globals';
import { eventually, viaGateway } from '@shop/testkit';
import { asBuyer, newProduct, newUser, placeOrder, settled } from './shop-fixtures.ts';

jest.setTimeout(120_000);

const cartOf = async (userId: string) => {
  const res = await asBuyer(userId, 'GET', `/users/${userId}/cart`);
  expect(res.status).toBe(200);
  return res.body;
};
const linesOf = async (userId: string) =>
  (await cartOf(userId)).lines.map((l: { productId: string; quantity: number }) => [l.productId, l.quantity]);

describe('the cart', () => {
  test('When a buyer fills the cart and orders from it, then the order has its lines, and the cart is empty once the order completes', async () => {
    const userId = await newUser(0);
    const [mug, tea] = [await newProduct(12_000, 10), await newProduct(3_000, 10)];
    expect((await asBuyer(userId, 'POST', `/users/${userId}/cart/lines`, { productId: mug })).status).toBe(
      200,
    );
    await asBuyer(userId, 'POST', `/users/${userId}/cart/lines`, { productId: tea, quantity: 3 });
    expect(
      (await asBuyer(userId, 'PUT', `/users/${userId}/cart/lines/${mug}`, { quantity: 2 })).body.total,
    ).toBe(33_000);

    const orderId = await placeOrder({ userId, fromCart: true });
    const order = await settled(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.fromCart).toBe(true);
    expect(
      order.items.map((i: { productId: string; quantity: number }) => [i.productId, i.quantity]).sort(),
    ).toEqual(
      [
        [mug, 2],
        [tea, 3],
      ].sort(),
    );
    expect(order.totalAmount).toBe(33_000);
    await eventually(
      'the cart to be emptied by the completed order',
      async () => (await linesOf(userId)).length === 0,
    );

    // An empty cart is nothing to order.
    const empty = await asBuyer(userId, 'POST', '/orders', { userId, fromCart: true });
    expect(empty.status).toBe(422);
    expect(empty.body.errors).toEqual([expect.objectContaining({ field: 'body.fromCart' })]);
  });

  test('When an order from the cart fails, then the cart keeps its lines', async () => {
    const userId = await newUser(0);
    const lamp = await newProduct(8_000, 10);
    await asBuyer(userId, 'POST', `/users/${userId}/cart/lines`, { productId: lamp, quantity: 2 });
    const orderId = await placeOrder({ userId, fromCart: true }, { 'x-fake-gateway': 'fail' });
    expect((await settled(orderId)).status).toBe('FAILED');
    // Its buyer was told (the user service consumed OrderFailed): the events of the order are out.
    await eventually('the buyer to be told', async () =>
      (await asBuyer(userId, 'GET', `/users/${userId}/notifications`)).body.items.some(
        (n: { orderId: string }) => n.orderId === orderId,
      ),
    );
    expect(await linesOf(userId)).toEqual([[lamp, 2]]);
  });

  test('When someone else reads or changes a cart, or the input is wrong, then the gateway refuses them and bad input is a problem document', async () => {
    const [owner, other] = [await newUser(0), await newUser(0)];
    const lamp = await newProduct(8_000, 10);
    await asBuyer(owner, 'POST', `/users/${owner}/cart/lines`, { productId: lamp });
    expect((await asBuyer(other, 'GET', `/users/${owner}/cart`)).status).toBe(403);
    expect((await asBuyer(other, 'DELETE', `/users/${owner}/cart`)).status).toBe(403);
    expect((await asBuyer(other, 'POST', `/users/${owner}/cart/lines`, { productId: lamp })).status).toBe(
      403,
    );
    expect((await viaGateway('GET', `/users/${owner}/cart`)).status).toBe(401);
    // Another's cart cannot be ordered from either: the order's buyer is the caller.
    expect((await asBuyer(other, 'POST', '/orders', { userId: owner, fromCart: true })).status).toBe(403);

    const bad = await asBuyer(owner, 'PUT', `/users/${owner}/cart/lines/${lamp}`, { quantity: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'body.quantity' })]);
    const both = await asBuyer(owner, 'POST', '/orders', {
      userId: owner,
      fromCart: true,
      items: [{ productId: lamp, quantity: 1 }],
    });
    expect(both.status).toBe(422);
    expect((await asBuyer(owner, 'DELETE', `/users/${owner}/cart/lines/${lamp}`)).body.lines).toEqual([]);
    expect(await linesOf(other)).toEqual([]);
  });
});
