/** What an end-to-end test needs to place an order: a buyer, a product, a coupon of the buyer's. */
import { randomUUID } from 'node:crypto';
import { call, eventually, services } from './stack.ts';

const hour = 3_600_000;
export const appUrl = (name: keyof typeof services, path: string) => `${services[name].appUrl}${path}`;

export async function newUser(points: number): Promise<string> {
  const user = await call('POST', appUrl('user', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Buyer',
  });
  if (points > 0) {
    await call('POST', appUrl('user', `/users/${user.body.id}/points/charge`), {
      amount: points,
      idempotencyKey: randomUUID(),
    });
  }
  return user.body.id;
}

export async function newProduct(price: number, stock: number): Promise<string> {
  return (
    await call('POST', appUrl('product', '/products'), {
      name: `Item ${randomUUID().slice(0, 6)}`,
      price,
      stock,
    })
  ).body.id;
}

/** A coupon (5,000 KRW off orders of 10,000 or more) issued to the user through the real first-come path. */
export async function couponFor(userId: string): Promise<string> {
  const coupon = await call('POST', appUrl('coupon', '/coupons'), {
    name: 'Test coupon',
    discountType: 'FIXED',
    discountValue: 5000,
    quota: 10,
    minOrderAmount: 10_000,
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
  });
  const requestId = await eventually('the coupon service to know the user', async () => {
    const r = await call('POST', appUrl('coupon', `/coupons/${coupon.body.id}/issue`), { userId });
    return r.status === 202 ? (r.body.requestId as string) : undefined;
  });
  await eventually(
    'the coupon to be issued',
    async () =>
      (await call('GET', appUrl('coupon', `/coupon-requests/${requestId}`))).body.status === 'COMPLETED',
  );
  return coupon.body.id;
}

/** Places an order through the order service's sidecar; answers its id. */
export async function placeOrder(
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await call('POST', `${services.order.daprUrl}/v1.0/invoke/order/method/orders`, body, headers);
  if (res.status !== 202) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.orderId;
}

/** The order once it has ended (COMPLETED, FAILED or NEEDS_ATTENTION). */
export function settled(orderId: string): Promise<any> {
  return eventually(
    `order ${orderId} to end`,
    async () => {
      const o = (await call('GET', appUrl('order', `/orders/${orderId}`))).body;
      return o.status === 'PENDING' ? undefined : o;
    },
    120_000,
  );
}
