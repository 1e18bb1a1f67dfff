/**
 * The gateway's rules against a stand-in for its sidecar (an HTTP server the
 * test serves and records): what reaches a service, with which headers, and
 * what is refused before anything does. The real sidecars and services are
 * in local/e2e/gateway.e2e.test.ts.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import {
  assembleStatelessApp,
  createLogger,
  DaprSidecar,
  type Role,
  serveMetrics,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenBuckets,
} from '@shop/platform';
import { createLocalJWKSet, exportJWK, SignJWT } from 'jose';
import request from 'supertest';
import { tokenVerifier } from '../src/auth/access-token.ts';
import { OpenStreams } from '../src/rate-limit/open-streams.ts';
import { gatewayRouter } from '../src/routes/gateway.router.ts';

const ALICE = '0190c0de-0000-7000-8000-00000000a11c';
const BOB = '0190c0de-0000-7000-8000-000000000b0b';
const ORDER = '0190c0de-0000-7000-8000-0000000000d1';

let key: KeyObject;
let sidecar: Server;
let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

/** The stand-in sidecar: an order owned by Alice, a stream, Dapr's own 500 for the payment app, 200 otherwise. */
function answer(req: IncomingMessage, body: string, res: import('node:http').ServerResponse) {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
  if (req.url === `/v1.0/invoke/order/method/orders/${ORDER}`) {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ orderId: ORDER, userId: ALICE }));
  }
  if (req.url?.startsWith('/v1.0/invoke/order/method/orders/') && req.url.endsWith('/events?hold')) {
    // A stream that stays open until the client leaves.
    res.setHeader('content-type', 'text/event-stream');
    res.write('event: order\ndata: {"status":"PENDING"}\n\n');
    return;
  }
  if (req.url?.startsWith('/v1.0/invoke/order/method/orders/') && req.url.endsWith('/events')) {
    res.setHeader('content-type', 'text/event-stream');
    res.write('event: order\ndata: {"status":"PENDING"}\n\n');
    setTimeout(() => res.end('event: order\ndata: {"status":"COMPLETED"}\n\n'), 50);
    return;
  }
  if (req.url?.startsWith('/v1.0/invoke/order/method/orders/')) {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/problem+json');
    return res.end(JSON.stringify({ type: 'urn:shop-on-dapr:problem:order-not-found', status: 404 }));
  }
  if (req.url?.startsWith('/v1.0/invoke/payment/')) {
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ errorCode: 'ERR_DIRECT_INVOKE', message: 'app unreachable' }));
  }
  res.setHeader('content-type', 'application/json');
  res.setHeader('location', '/ops/workflow-self-test/abc');
  res.end(JSON.stringify({ ok: true }));
}

async function gatewayApp(options: {
  sidecarPort: number;
  perSecond?: number;
  burst?: number;
  faultsFromOps?: boolean;
  trustProxyHops?: number;
  anonymousBurst?: number;
  maxStreams?: number;
}) {
  const jwk = await exportJWK(key);
  const { d: _private, ...publicJwk } = jwk;
  const sidecarClient = new DaprSidecar({
    host: '127.0.0.1',
    httpPort: options.sidecarPort,
    pubsubName: 'pubsub',
    apiToken: 'sidecar-api-token',
  });
  const log = createLogger('gateway', 'silent');
  const deps = { config: {} as never, log, sidecar: sidecarClient };
  return assembleStatelessApp(deps, {
    routers: [
      gatewayRouter({
        sidecar: sidecarClient,
        verifyToken: tokenVerifier(createLocalJWKSet({ keys: [{ ...publicJwk, kid: 'k1', alg: 'ES256' }] })),
        rateLimit: {
          user: new TokenBuckets(options.perSecond ?? 1000, options.burst ?? 1000),
          anonymous: new TokenBuckets(options.anonymousBurst ? 1 : 1000, options.anonymousBurst ?? 1000),
        },
        streams: new OpenStreams(options.maxStreams ?? 10),
        upstreamTimeoutMs: 2_000,
        faultsFromOps: options.faultsFromOps ?? true,
      }),
    ],
    trustProxyHops: options.trustProxyHops ?? 0,
  });
}

function token(sub: string, role: Role, tweak: (jwt: SignJWT) => SignJWT = (jwt) => jwt, signWith = key) {
  return tweak(
    new SignJWT({ role })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setSubject(sub)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m'),
  ).sign(signWith);
}

let http: ReturnType<typeof request>;
let alice: string;
let bob: string;

beforeAll(async () => {
  key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  sidecar = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => answer(req, body, res));
  });
  await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
  http = request((await gatewayApp({ sidecarPort: (sidecar.address() as AddressInfo).port })).callback());
  alice = await token(ALICE, 'customer');
  bob = await token(BOB, 'customer');
});

afterAll(() => new Promise((resolve) => sidecar.close(resolve)));

beforeEach(() => {
  seen = [];
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('what reaches a service', () => {
  test('When a signed-in user calls, then the service gets their id and role, never a client-sent one nor the token', async () => {
    const res = await http
      .post('/top-ups')
      .set({ ...bearer(alice), 'x-user-id': BOB, 'x-user-role': 'admin', 'idempotency-key': 'key-12345' })
      .send({ userId: ALICE, amount: 5000 });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1.0/invoke/order/method/top-ups',
      body: JSON.stringify({ userId: ALICE, amount: 5000 }),
    });
    expect(seen[0]!.headers).toMatchObject({
      'x-user-id': ALICE,
      'x-user-role': 'customer',
      'idempotency-key': 'key-12345',
      // Its own sidecar's API token, which the sidecar demands.
      'dapr-api-token': 'sidecar-api-token',
    });
    expect(seen[0]!.headers.authorization).toBeUndefined();
    // How long the service behind took, so that a client can tell the gateway's own share.
    expect(res.headers['server-timing']).toMatch(/^upstream;dur=\d+(\.\d+)?$/);
  });

  test("When a customer sends the fault hooks' headers, then they stay at the gateway; an operator's are passed on where faults are on", async () => {
    const faults = { 'x-fake-gateway': 'fail-capture', 'x-saga-fault': 'no-workflow' };
    const send = (app: typeof http, as: string, userId: string) =>
      app
        .post('/orders')
        .set({ ...bearer(as), ...faults })
        .send({ userId, items: [] });
    await send(http, alice, ALICE).expect(200);
    expect(seen[0]!.headers['x-fake-gateway']).toBeUndefined();
    expect(seen[0]!.headers['x-saga-fault']).toBeUndefined();

    const ops = await token(BOB, 'ops');
    await send(http, ops, BOB).expect(200);
    expect(seen[1]!.headers).toMatchObject(faults);

    const faultsOff = request(
      (
        await gatewayApp({ sidecarPort: (sidecar.address() as AddressInfo).port, faultsFromOps: false })
      ).callback(),
    );
    await send(faultsOff, ops, BOB).expect(200);
    expect(seen[2]!.headers['x-fake-gateway']).toBeUndefined();
    expect(seen[2]!.headers['x-saga-fault']).toBeUndefined();
  });

  test('When the route is an operations one, then the app is named by the path and its location is rewritten', async () => {
    const ops = await token(BOB, 'ops');
    const res = await http.post('/ops/order/workflow-self-test').set(bearer(ops));
    expect(res.status).toBe(200);
    expect(seen[0]!.url).toBe('/v1.0/invoke/order/method/ops/workflow-self-test');
    expect(res.headers.location).toBe('/ops/order/workflow-self-test/abc');
  });

  test('When the owner follows their order, then the stream is passed on as it comes', async () => {
    const res = await http.get(`/orders/${ORDER}/events`).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.text).toContain('"COMPLETED"');
  });

  test('When the service behind the route is away (Dapr answers its own 500), then it is a 503 problem', async () => {
    const res = await http.get(`/payments/${ORDER}`).set(bearer(alice));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:upstream-unavailable' });
  });
});

describe('what is refused before any service is asked', () => {
  const refusals: [string, () => Promise<request.Response>, number, string][] = [
    ['no token', () => http.get(`/users/${ALICE}`), 401, 'authentication-required'],
    [
      'a token of another scheme',
      () => http.get(`/users/${ALICE}`).set('authorization', 'Basic YTpi'),
      401,
      'invalid-token',
    ],
    [
      'an expired token',
      async () =>
        http
          .get(`/users/${ALICE}`)
          .set(
            bearer(
              await token(ALICE, 'customer', (j) => j.setExpirationTime(Math.floor(Date.now() / 1000) - 60)),
            ),
          ),
      401,
      'invalid-token',
    ],
    [
      'a token that never expires (signed by the right key, but no exp claim)',
      async () =>
        http
          .get(`/users/${ALICE}`)
          .set(
            bearer(
              await new SignJWT({ role: 'customer' })
                .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
                .setSubject(ALICE)
                .setIssuer(TOKEN_ISSUER)
                .setAudience(TOKEN_AUDIENCE)
                .setIssuedAt()
                .sign(key),
            ),
          ),
      401,
      'invalid-token',
    ],
    [
      'a token for another audience',
      async () =>
        http
          .get(`/users/${ALICE}`)
          .set(bearer(await token(ALICE, 'customer', (j) => j.setAudience('elsewhere')))),
      401,
      'invalid-token',
    ],
    [
      'a token signed by another key',
      async () =>
        http
          .get(`/users/${ALICE}`)
          .set(
            bearer(
              await token(
                ALICE,
                'admin',
                (j) => j,
                generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
              ),
            ),
          ),
      401,
      'invalid-token',
    ],
    ['another user’s account', () => http.get(`/users/${ALICE}/points`).set(bearer(bob)), 403, 'not-owner'],
    [
      'an order for another user',
      () => http.post('/orders').set(bearer(bob)).send({ userId: ALICE, items: [] }),
      403,
      'not-owner',
    ],
    [
      'a customer creating a product',
      () => http.post('/products').set(bearer(alice)).send({}),
      403,
      'role-required',
    ],
    [
      'a customer granting themselves points',
      () =>
        http
          .post(`/users/${ALICE}/points/grants`)
          .set(bearer(alice))
          .send({ amount: 1_000_000, reason: 'free money' }),
      403,
      'role-required',
    ],
    [
      'a customer charging themselves points without paying (the route is gone)',
      () => http.post(`/users/${ALICE}/points/charge`).set(bearer(alice)).send({ amount: 1_000_000 }),
      404,
      'http-404',
    ],
    [
      'a top-up for another user',
      () => http.post('/top-ups').set(bearer(bob)).send({ userId: ALICE, amount: 5000 }),
      403,
      'not-owner',
    ],
    [
      'a customer at operations',
      () => http.get('/ops/user/dead-letters').set(bearer(alice)),
      403,
      'role-required',
    ],
    [
      'a saga step',
      () => http.post('/saga/points/refund').set(bearer(alice)).send({}),
      403,
      'internal-operation',
    ],
    [
      'a saga step without a token',
      () => http.post('/saga/stock/restore').send({}),
      403,
      'internal-operation',
    ],
    [
      'an id that climbs out of its path',
      () => http.get('/users/..%2Fsaga/points').set(bearer(alice)),
      422,
      'validation-failed',
    ],
    ['a sidecar callback', () => http.get('/dapr/subscribe'), 404, 'http-404'],
  ];
  test.each(refusals)('When it is %s, then it is refused with a problem', async (_, send, status, slug) => {
    const res = await send();
    expect({ status: res.status, type: res.body.type }).toEqual({
      status,
      type: `urn:shop-on-dapr:problem:${slug}`,
    });
    expect(res.headers['content-type']).toContain('application/problem+json');
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(seen).toEqual([]);
  });

  test('When another user asks for an order, then the order is read once and not passed on', async () => {
    const res = await http.get(`/orders/${ORDER}`).set(bearer(bob));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:not-owner' });
    expect(JSON.stringify(res.body)).not.toContain(ALICE);
    expect(seen.map((s) => s.url)).toEqual([`/v1.0/invoke/order/method/orders/${ORDER}`]);
  });

  test('When the owner asks for their order, then one call answers it; for its payment, the owner is asked first', async () => {
    const order = await http.get(`/orders/${ORDER}`).set(bearer(alice));
    expect(order.status).toBe(200);
    expect(order.body).toEqual({ orderId: ORDER, userId: ALICE });
    expect(seen.map((s) => s.url)).toEqual([`/v1.0/invoke/order/method/orders/${ORDER}`]);
    seen = [];
    const payment = await http.get(`/payments/${ORDER}`).set(bearer(bob));
    expect(payment.status).toBe(403);
    expect(seen.map((s) => s.url)).toEqual([`/v1.0/invoke/order/method/orders/${ORDER}`]);
  });

  test('When an order does not exist, then the order service’s 404 is the answer', async () => {
    const res = await http.get('/orders/0190c0de-0000-7000-8000-0000000000ff/events').set(bearer(alice));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:order-not-found' });
  });
});

describe('rate limit', () => {
  test('When a user goes past the burst, then it is a 429 problem with Retry-After, and other users go on', async () => {
    const limited = request(
      (
        await gatewayApp({ sidecarPort: (sidecar.address() as AddressInfo).port, perSecond: 1, burst: 2 })
      ).callback(),
    );
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await limited.get(`/users/${ALICE}`).set(bearer(alice))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await limited.get(`/users/${ALICE}`).set(bearer(alice));
    expect(refused.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:rate-limited', status: 429 });
    expect(refused.headers['retry-after']).toBe('1');
    expect((await limited.get(`/users/${BOB}`).set(bearer(bob))).status).toBe(200);
  });
});

describe('live streams', () => {
  test('When a user holds as many streams as allowed, then one more is a 429 problem until one closes; another user is not held back', async () => {
    const app = await gatewayApp({ sidecarPort: (sidecar.address() as AddressInfo).port, maxStreams: 2 });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders/${ORDER}/events?hold`;
    const follow = (as: string) => {
      const leave = new AbortController();
      return { response: fetch(url, { headers: bearer(as), signal: leave.signal }), leave };
    };
    try {
      const held = [follow(alice), follow(alice)];
      for (const h of held) expect((await h.response).status).toBe(200);
      const third = await follow(alice).response;
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({ type: 'urn:shop-on-dapr:problem:too-many-streams', max: 2 });
      // Another user (an operator, who may read any order) has their own count.
      const others = follow(await token(BOB, 'ops'));
      expect((await others.response).status).toBe(200);
      others.leave.abort();
      held[0]!.leave.abort();
      await sleep(200);
      const again = follow(alice);
      expect((await again.response).status).toBe(200);
      again.leave.abort();
      held[1]!.leave.abort();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the client behind a proxy', () => {
  test('When one proxy is trusted and a client rotates the leftmost X-Forwarded-For, then its requests still share one bucket: the address the proxy saw', async () => {
    const behindProxy = request(
      (
        await gatewayApp({
          sidecarPort: (sidecar.address() as AddressInfo).port,
          trustProxyHops: 1,
          anonymousBurst: 2,
        })
      ).callback(),
    );
    const from = (forged: string, seenByProxy: string) =>
      behindProxy.get('/products').set('x-forwarded-for', `${forged}, ${seenByProxy}`);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await from(`10.9.9.${i}`, '203.0.113.7')).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Another client behind the same proxy has its own bucket.
    expect((await from('10.9.9.9', '203.0.113.8')).status).toBe(200);
  });
});

describe('sidecar down', () => {
  test('When the gateway’s own sidecar does not answer, then it is a 503 problem, not a 500', async () => {
    const down = request((await gatewayApp({ sidecarPort: 1 })).callback());
    const res = await down.get('/products');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:shop-on-dapr:problem:upstream-unavailable' });
  });
});

describe('metrics', () => {
  test('When a scraper asks, then the gateway’s requests are counted on its own metrics port; its public port has no /metrics', async () => {
    expect((await http.get('/products')).status).toBe(200);
    expect((await http.get('/metrics')).status).toBe(404);
    const metrics = await serveMetrics(0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(
        /^http_server_request_duration_seconds_count\{[^}]*route="\/products"[^}]*status="200"[^}]*\} [1-9]/m,
      );
    } finally {
      await new Promise((resolve) => metrics.close(resolve));
    }
  });
});
