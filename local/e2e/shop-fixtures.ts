/**
 * What an end-to-end test needs to place an order — a buyer, a product, a
 * coupon of the buyer's — done as people do it: through the gateway, the buyer
 * signed in with their own token, the catalog and coupons made by the demo
 * admin, operations by the demo ops user.
 */
import { randomUUID } from 'node:crypto';
import {
  call,
  eventually,
  fixedCoupon,
  gateway,
  type JsonResponse,
  services,
  signIn,
  signUp,
  viaGateway,
} from '@shop/testkit';

/** A service's own port, for what no user calls (its /metrics). */
export const appUrl = (name: keyof typeof services, path: string) => `${services[name].appUrl}${path}`;

/** Each buyer's access token by user id, and each order's buyer: the tests act as the buyer they made. */
const tokens = new Map<string, string>();
const buyers = new Map<string, string>();

/** The access token the buyer `userId` signed up with. */
export const tokenOf = (userId: string) => {
  const token = tokens.get(userId);
  if (!token) throw new Error(`no buyer ${userId} was made by newUser()`);
  return token;
};

const signedIn = (email: string, password: string) => {
  let token: Promise<string> | undefined;
  return () => (token ??= signIn(email, password).then((s) => s.token));
};
const admin = signedIn('admin@example.com', 'admin-demo-pass');
const ops = signedIn('ops@example.com', 'ops-demo-pass');

const expectStatus = async (what: string, status: number, pending: Promise<JsonResponse>) => {
  const res = await pending;
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
};

/** A call through the gateway as the buyer `userId`. */
export const asBuyer = (
  userId: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => viaGateway(method, path, { token: tokenOf(userId), body, headers });

/**
 * A POST to the order service as the buyer `userId`, with the fault hooks'
 * headers (`x-fake-gateway`, `x-saga-fault`). The gateway passes those on for
 * an operator only, never for a customer, so a test sends them from inside the
 * mesh: through the gateway's own sidecar, with the buyer's id and role as the
 * gateway passes them on.
 */
export const withFaults = (userId: string, path: string, body: unknown, faults: Record<string, string>) =>
  call('POST', `${gateway.daprUrl}/v1.0/invoke/order/method${path}`, body, {
    ...faults,
    'x-user-id': userId,
    'x-user-role': 'customer',
  });

/** A call through the gateway as the buyer of `orderId` (placed with placeOrder). */
export const asBuyerOf = (orderId: string, method: string, path: string) => {
  const userId = buyers.get(orderId);
  if (!userId) throw new Error(`order ${orderId} was not placed with placeOrder()`);
  return asBuyer(userId, method, path);
};

/** A call through the gateway as the demo ops user (`/ops/<app>/…`). */
export const asOps = async (method: string, path: string) => viaGateway(method, path, { token: await ops() });

/** A customer who signed up through the gateway, with `points` granted by the demo admin. */
export async function newUser(points: number): Promise<string> {
  const { token, userId } = await signUp('Buyer');
  tokens.set(userId, token);
  if (points > 0) await grantPoints(userId, points);
  return userId;
}

/** Points the demo admin grants a user (the only way to points without paying). */
export async function grantPoints(userId: string, amount: number): Promise<void> {
  await expectStatus(
    'granting points',
    200,
    viaGateway('POST', `/users/${userId}/points/grants`, {
      token: await admin(),
      body: { amount, reason: 'an end-to-end test buyer', idempotencyKey: randomUUID() },
    }),
  );
}

/** A product the demo admin adds to the catalog. */
export async function newProduct(price: number, stock: number): Promise<string> {
  const body = { name: `Item ${randomUUID().slice(0, 6)}`, price, stock };
  return (
    await expectStatus(
      'adding a product',
      201,
      viaGateway('POST', '/products', { token: await admin(), body }),
    )
  ).id;
}

/** A coupon (5,000 KRW off orders of 10,000 or more) issued to the user through the real first-come path. */
export async function couponFor(userId: string): Promise<string> {
  const coupon = await expectStatus(
    'creating a coupon',
    201,
    viaGateway('POST', '/coupons', {
      token: await admin(),
      body: fixedCoupon('Test coupon'),
    }),
  );
  const requestId = await eventually('the coupon service to know the user', async () => {
    const r = await asBuyer(userId, 'POST', `/coupons/${coupon.id}/issue`, { userId });
    return r.status === 202 ? (r.body.requestId as string) : undefined;
  });
  await eventually(
    'the coupon to be issued',
    async () => (await asBuyer(userId, 'GET', `/coupon-requests/${requestId}`)).body.status === 'COMPLETED',
  );
  return coupon.id;
}

/** Places an order as its buyer (`body.userId`) through the gateway; answers its id. */
export async function placeOrder(
  body: { userId: string } & Record<string, unknown>,
  faults: Record<string, string> = {},
): Promise<string> {
  const { orderId } = await expectStatus(
    'POST /orders',
    202,
    Object.keys(faults).length > 0
      ? withFaults(body.userId, '/orders', body, faults)
      : asBuyer(body.userId, 'POST', '/orders', body),
  );
  buyers.set(orderId, body.userId);
  return orderId;
}

/** The order as its buyer sees it now; undefined while it cannot be read (a service restarting, a 429). */
export async function orderNow(orderId: string): Promise<any> {
  const res = await asBuyerOf(orderId, 'GET', `/orders/${orderId}`);
  return res.status === 200 ? res.body : undefined;
}

/** The order once it has ended (COMPLETED, FAILED or NEEDS_ATTENTION). */
export function settled(orderId: string): Promise<any> {
  return eventually(
    `order ${orderId} to end`,
    async () => {
      const o = await orderNow(orderId);
      return o && o.status !== 'PENDING' ? o : undefined;
    },
    120_000,
  );
}
