/**
 * Inside the platform, each refusal that keeps a caller to its lane: a sidecar
 * without its Dapr API token, a service's port reached around its sidecar, an
 * app invoking what its access control policy does not allow (checked against
 * its mTLS identity from Sentry), an app publishing to a topic not its own,
 * the gateway, which has no pub/sub or state store at all, and, on the
 * machine, a local process without the keys at Postgres, Redis or the runner.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { call, gateway, insiderHeaders, services } from '@shop/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { controlHeaders } from '../src/api-tokens.ts';
import { KEYS } from '../src/local-secrets.ts';
import { ROOT } from '../src/paths.ts';
import { control, postgres, redis } from '../src/topology.ts';

type Caller = 'gateway' | keyof typeof services;
const sidecarOf = (caller: Caller) => (caller === 'gateway' ? gateway.daprUrl : services[caller].daprUrl);

/** A service invocation as `caller` makes it: through its own sidecar, with the sidecar's token. */
const invokeAs = (caller: Caller, appId: string, method: string, path: string, body?: unknown) =>
  call(method, `${sidecarOf(caller)}/v1.0/invoke/${appId}/method/${path}`, body);

const refund = () => ({ orderId: randomUUID(), userId: randomUUID() });

describe('the Dapr API token', () => {
  test('When a call reaches a sidecar without the token, or with a wrong one, then the sidecar refuses it with 401', async () => {
    const url = `${services.user.daprUrl}/v1.0/invoke/user/method/saga/points/refund`;
    const bare = await fetch(url, { method: 'POST', body: JSON.stringify(refund()) });
    expect(bare.status).toBe(401);
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { 'dapr-api-token': 'guessed' },
      body: JSON.stringify(refund()),
    });
    expect(wrong.status).toBe(401);
    // The same sidecar serves its own app with the token (and refuses no health probe).
    expect((await call('GET', `${services.user.daprUrl}/v1.0/invoke/user/method/healthz`)).status).toBe(200);
    expect((await fetch(`${services.user.daprUrl}/v1.0/healthz`)).status).toBe(204);
  });
});

describe('the app API token', () => {
  test('When a request reaches a service’s port around its sidecar, then it is refused with a 401 problem', async () => {
    const res = await fetch(`${services.user.appUrl}/saga/points/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(refund()),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ type: 'urn:shop-on-dapr:problem:not-from-sidecar' });
    // Probes and scrapes reach the port without it.
    expect((await fetch(`${services.user.appUrl}/readyz`)).status).toBe(200);
  });

  test('When the sidecar delivers, then its token lets the request in', async () => {
    const res = await call('POST', `${services.user.appUrl}/saga/points/refund`, refund());
    expect(res.status).not.toBe(401);
    expect(insiderHeaders(services.user.appUrl)['dapr-api-token']).toBeDefined();
  });

  test("When a foothold in one service sends its own app token to another service's port, then it is refused: each service has its own", async () => {
    const productsToken = insiderHeaders(services.product.appUrl)['dapr-api-token']!;
    expect(productsToken).not.toBe(insiderHeaders(services.user.appUrl)['dapr-api-token']);
    const res = await fetch(`${services.user.appUrl}/saga/points/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': productsToken },
      body: JSON.stringify(refund()),
    });
    expect(res.status).toBe(401);
  });

  test('When a service is started without its app API token, then it refuses to start, saying why', () => {
    const started = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', join(ROOT, 'services', 'user', 'src', 'main.ts')],
      {
        cwd: join(ROOT, 'services', 'user'),
        env: { PATH: process.env.PATH, APP_ID: 'user', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(started.status).toBe(1);
    expect(started.stderr).toMatch(/APP_API_TOKEN is not set/);
  });
});

describe('the access control policies', () => {
  test('When the gateway invokes a saga step, then the callee’s sidecar refuses it with 403, while order reaches it', async () => {
    const asGateway = await invokeAs('gateway', 'user', 'POST', 'saga/points/refund', refund());
    expect(asGateway.status).toBe(403);
    expect(JSON.stringify(asGateway.body)).toContain('access control policy has denied access');
    // The saga's own caller gets through to the app, which answers itself (a user it does not know).
    const asOrder = await invokeAs('order', 'user', 'POST', 'saga/points/refund', refund());
    expect(asOrder).toMatchObject({ status: 404, body: { type: 'urn:shop-on-dapr:problem:user-not-found' } });
  });

  test.each([
    ['product', 'saga/stock/restore', { orderId: randomUUID() }],
    [
      'coupon',
      'saga/coupons/restore',
      { orderId: randomUUID(), userId: randomUUID(), couponId: randomUUID() },
    ],
    ['payment', 'saga/payments/cancel', { orderId: randomUUID() }],
  ])('When the gateway invokes %s’s %s, then it is refused with 403', async (appId, path, body) => {
    expect((await invokeAs('gateway', appId, 'POST', path, body)).status).toBe(403);
  });

  test('When another service than order invokes a saga step, then it is refused with 403', async () => {
    expect((await invokeAs('payment', 'user', 'POST', 'saga/points/refund', refund())).status).toBe(403);
    expect(
      (await invokeAs('coupon', 'payment', 'POST', 'saga/payments/cancel', { orderId: randomUUID() })).status,
    ).toBe(403);
  });

  test('When the gateway calls a public route, then it goes through; a sidecar callback does not', async () => {
    expect((await invokeAs('gateway', 'product', 'GET', 'products?size=1')).status).toBe(200);
    // A forged event delivered by invocation instead of by Kafka.
    const forged = await invokeAs('gateway', 'product', 'POST', 'events/order-events', {
      id: randomUUID(),
      type: 'OrderCompleted',
      data: { orderId: randomUUID() },
    });
    expect(forged.status).toBe(403);
  });

  test('When the user service reads an order for a notification, then it may; placing one, it may not', async () => {
    expect((await invokeAs('user', 'order', 'GET', `orders/${randomUUID()}`)).status).toBe(404);
    const placing = await invokeAs('user', 'order', 'POST', 'orders', {
      userId: randomUUID(),
      items: [{ productId: randomUUID(), quantity: 1 }],
    });
    expect(placing.status).toBe(403);
  });
});

describe('the component and topic scopes', () => {
  const publish = (caller: Caller, topic: string) =>
    call('POST', `${sidecarOf(caller)}/v1.0/publish/pubsub/${topic}`, {
      id: randomUUID(),
      type: 'Forged',
      data: {},
    });

  test('When a service publishes to a topic that is not its own, then its sidecar refuses it with 403', async () => {
    const res = await publish('payment', 'order-events');
    expect(res.status).toBe(403);
    expect(res.body.errorCode).toBe('ERR_PUBSUB_FORBIDDEN');
  });

  test("When a consumer publishes to the topic it consumes (the user service forging the order service's OrderFailed), then its sidecar refuses it with 403", async () => {
    for (const [consumer, topic] of [
      ['user', 'order-events'],
      ['product', 'order-events'],
      ['coupon', 'user-events'],
    ] as const) {
      const res = await publish(consumer, topic);
      expect({ consumer, topic, status: res.status, code: res.body.errorCode }).toEqual({
        consumer,
        topic,
        status: 403,
        code: 'ERR_PUBSUB_FORBIDDEN',
      });
    }
  });

  test('When the gateway tries the pub/sub or the state store, then its sidecar has neither', async () => {
    expect((await publish('gateway', 'order-events')).body.errorCode).toBe('ERR_PUBSUB_NOT_FOUND');
    const state = await call('GET', `${gateway.daprUrl}/v1.0/state/statestore/anything`);
    expect(state.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(state.body)).toContain('statestore');
  });
});

describe('the local platform to other local processes', () => {
  test('When a local process without the keys tries Postgres, Redis or the control API, then each refuses it; the keys are readable by the runner’s user only', async () => {
    const bare = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${postgres.port}/postgres`,
    });
    await expect(bare.connect()).rejects.toThrow(/password/);
    await bare.end().catch(() => undefined);
    const guessed = new pg.Client({
      connectionString: `postgres://postgres:guessed@127.0.0.1:${postgres.port}/postgres`,
    });
    await expect(guessed.connect()).rejects.toThrow(/password authentication failed/);
    await guessed.end().catch(() => undefined);

    const anonymous = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await expect(anonymous.get('anything')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }

    expect((await fetch(`${control.url}/processes`)).status).toBe(401);
    expect((await fetch(`${control.url}/processes`, { headers: controlHeaders() })).status).toBe(200);

    expect(statSync(KEYS).mode & 0o777).toBe(0o700);
    for (const key of [
      'postgres-password',
      'redis-password',
      'control-token',
      'dapr-api-token',
      'app-user-api-token',
    ])
      expect({ key, mode: statSync(join(KEYS, key)).mode & 0o777 }).toEqual({ key, mode: 0o600 });
  });
});
