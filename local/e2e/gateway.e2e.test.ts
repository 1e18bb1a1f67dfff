/**
 * The gateway on the real stack, as a person uses it: sign in, order and ask
 * for a coupon with their token, follow the order's stream — and refused,
 * with a problem document, without a token, with a forged one, as another
 * user, without the role, and at a saga step.
 */
import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { eventually, fixedCoupon, gateway, signIn, signUp, viaGateway } from '@shop/testkit';

jest.setTimeout(120_000);

let admin: { token: string; userId: string };
let productId: string;

beforeAll(async () => {
  admin = await signIn('admin@example.com', 'admin-demo-pass');
  const product = await viaGateway('POST', '/products', {
    token: admin.token,
    body: { name: `Gateway item ${randomUUID().slice(0, 6)}`, price: 20_000, stock: 20 },
  });
  expect(product.status).toBe(201);
  productId = product.body.id;
});

/** Orders one unit as the user and waits for the saga to end. */
async function order(user: { token: string; userId: string }, extra: Record<string, unknown> = {}) {
  const placed = await viaGateway('POST', '/orders', {
    token: user.token,
    body: { userId: user.userId, items: [{ productId, quantity: 1 }], ...extra },
  });
  expect(placed.status).toBe(202);
  return placed.body.orderId as string;
}

const expectProblem = (res: { status: number; body: any }, status: number, slug: string) => {
  expect({ status: res.status, type: res.body?.type }).toEqual({
    status,
    type: `urn:shop-on-dapr:problem:${slug}`,
  });
};

describe('through the gateway', () => {
  test('When a person signs in, asks for a coupon and orders with their token, then it is all done as them', async () => {
    const coupon = await viaGateway('POST', '/coupons', {
      token: admin.token,
      body: fixedCoupon('Gateway welcome'),
    });
    expect(coupon.status).toBe(201);
    const buyer = await signUp('Gateway buyer');
    // Points are bought: a paid top-up, credited once its payment is captured.
    const topUp = await viaGateway('POST', '/top-ups', {
      token: buyer.token,
      body: { userId: buyer.userId, amount: 10_000 },
      headers: { 'idempotency-key': `first-${randomUUID()}` },
    });
    expect(topUp.status).toBe(202);
    await eventually('the top-up to be credited', async () => {
      const t = await viaGateway('GET', `/top-ups/${topUp.body.topUpId}`, { token: buyer.token });
      return t.body.status === 'COMPLETED';
    });

    // The coupon service hears of a new user over Kafka: until then it answers 422.
    const requestId = await eventually('the coupon request to be accepted', async () => {
      const r = await viaGateway('POST', `/coupons/${coupon.body.id}/issue`, {
        token: buyer.token,
        body: { userId: buyer.userId },
      });
      return r.status === 202 ? (r.body.requestId as string) : undefined;
    });
    await eventually('the coupon to be issued', async () => {
      const r = await viaGateway('GET', `/coupon-requests/${requestId}`, { token: buyer.token });
      return r.body.status === 'COMPLETED';
    });
    expect(
      (await viaGateway('GET', `/users/${buyer.userId}/coupons`, { token: buyer.token })).body.items,
    ).toEqual([expect.objectContaining({ couponId: coupon.body.id, status: 'ISSUED' })]);

    const orderId = await order(buyer, { couponId: coupon.body.id, pointsToUse: 3000 });
    // The order's live stream, through the gateway: it ends with the final state.
    const stream = await fetch(`${gateway.appUrl}/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${buyer.token}` },
      signal: AbortSignal.timeout(60_000),
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = [...(await stream.text()).matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    expect(events.at(-1)).toMatchObject({ orderId, status: 'COMPLETED' });

    const read = await viaGateway('GET', `/orders/${orderId}`, { token: buyer.token });
    expect(read.body).toMatchObject({
      userId: buyer.userId,
      status: 'COMPLETED',
      discount: 5000,
      pointsUsed: 3000,
      paymentAmount: 12_000,
    });
    expect((await viaGateway('GET', `/payments/${orderId}`, { token: buyer.token })).body).toMatchObject({
      orderId,
      status: 'COMPLETED',
    });
    expect(
      (await viaGateway('GET', `/users/${buyer.userId}/points`, { token: buyer.token })).body,
    ).toMatchObject({
      balance: 7000,
    });
  });

  test('When there is no token, a forged one, another user, a missing role or a saga step, then it is refused with a problem', async () => {
    const buyer = await signUp('Owner');
    const other = await signUp('Someone else');
    const orderId = await order(buyer);

    const anonymous = await viaGateway('POST', '/orders', {
      body: { userId: buyer.userId, items: [{ productId, quantity: 1 }] },
    });
    expectProblem(anonymous, 401, 'authentication-required');
    const [header, payload] = buyer.token.split('.');
    const forged = `${header}.${payload}.${other.token.split('.')[2]}`;
    expectProblem(await viaGateway('GET', `/orders/${orderId}`, { token: forged }), 401, 'invalid-token');

    // Another user's order, account and coupons.
    expectProblem(await viaGateway('GET', `/orders/${orderId}`, { token: other.token }), 403, 'not-owner');
    expectProblem(
      await viaGateway('GET', `/orders/${orderId}/events`, { token: other.token }),
      403,
      'not-owner',
    );
    expectProblem(await viaGateway('GET', `/payments/${orderId}`, { token: other.token }), 403, 'not-owner');
    expectProblem(
      await viaGateway('GET', `/users/${buyer.userId}/points`, { token: other.token }),
      403,
      'not-owner',
    );
    expectProblem(
      await viaGateway('POST', '/orders', {
        token: other.token,
        body: { userId: buyer.userId, items: [{ productId, quantity: 1 }] },
      }),
      403,
      'not-owner',
    );
    expectProblem(
      await viaGateway('POST', '/top-ups', {
        token: other.token,
        body: { userId: buyer.userId, amount: 1000 },
      }),
      403,
      'not-owner',
    );

    // Roles: a customer is neither admin nor operations; operations is.
    expectProblem(
      await viaGateway('POST', '/products', {
        token: buyer.token,
        body: { name: 'Mine', price: 1, stock: 1 },
      }),
      403,
      'role-required',
    );
    expectProblem(await viaGateway('GET', '/ops/order/orders', { token: buyer.token }), 403, 'role-required');
    const ops = await signIn('ops@example.com', 'ops-demo-pass');
    expect((await viaGateway('GET', '/ops/order/orders', { token: ops.token })).status).toBe(200);
    expect((await viaGateway('GET', '/ops/user/dead-letters', { token: ops.token })).status).toBe(200);

    // The saga's steps are not public, whoever asks; nothing changed.
    const before = (await viaGateway('GET', `/users/${buyer.userId}/points`, { token: buyer.token })).body;
    for (const token of [buyer.token, admin.token, ops.token]) {
      expectProblem(
        await viaGateway('POST', '/saga/points/refund', { token, body: { orderId, userId: buyer.userId } }),
        403,
        'internal-operation',
      );
    }
    expect((await viaGateway('GET', `/users/${buyer.userId}/points`, { token: buyer.token })).body).toEqual(
      before,
    );

    // No way around the table: an id that is not one segment never reaches a service.
    const escaping = await viaGateway('GET', `/users/..%2Fsaga%2Fpoints/points`, { token: buyer.token });
    expect(escaping.status).toBeGreaterThanOrEqual(400);
    expect(escaping.status).toBeLessThan(500);
  });

  test('When a stranger signs up with a taken email or without a password, then nothing tells whether the email exists, and the owner still signs in', async () => {
    const email = `taken-${randomUUID()}@example.com`;
    const first = await viaGateway('POST', '/users', {
      body: { email, name: 'Owner', password: 'owner password' },
    });
    const second = await viaGateway('POST', '/users', {
      body: { email, name: 'Stranger', password: 'stranger password' },
    });
    const unknown = await viaGateway('POST', '/users', {
      body: { email: `new-${randomUUID()}@example.com`, name: 'New', password: 'a new password' },
    });
    expect(second).toEqual(first);
    expect(unknown).toEqual(first);
    expect(first.status).toBe(202);
    expect((await signIn(email, 'owner password')).userId).toBeDefined();
    const noPassword = await viaGateway('POST', '/users', {
      body: { email: `np-${randomUUID()}@example.com`, name: 'NP' },
    });
    expect(noPassword.status).toBe(422);
    expect(noPassword.body.errors[0].field).toBe('body.password');
  });

  test('When anyone reads the catalog or the health, then no token is needed; an unknown route is a 404 problem', async () => {
    expect((await viaGateway('GET', '/readyz')).status).toBe(200);
    expect((await viaGateway('GET', '/products')).status).toBe(200);
    expect((await viaGateway('GET', `/products/${productId}`)).body).toMatchObject({ id: productId });
    expectProblem(await viaGateway('GET', '/nowhere'), 404, 'http-404');
  });

  test('When a client asks for the contract, then the gateway serves valid OpenAPI 3.1 of the public API, saga steps left out', async () => {
    const res = await viaGateway('GET', '/openapi.json');
    expect(res.status).toBe(200);
    await SwaggerParser.validate(structuredClone(res.body));
    const paths = Object.keys(res.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/auth/login', '/orders', '/orders/{id}/events', '/ops/order/orders']),
    );
    expect(paths.filter((p) => p.startsWith('/saga'))).toEqual([]);
    expect(res.body.paths['/orders'].post).toMatchObject({
      security: [{ bearer: [] }],
      // An order of items, or of the buyer's cart.
      requestBody: {
        content: {
          'application/json': {
            schema: { required: ['userId'], properties: { items: { type: 'array' }, fromCart: {} } },
          },
        },
      },
    });
    expect(res.body.paths['/products'].get.security).toBeUndefined();
  });
});
