/**
 * The foundation, proved on the real stack that `npm test` started: real
 * daprd sidecars, Kafka, Postgres, Redis, placement and scheduler.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { uuidv7 } from '@shop/platform';
import {
  call,
  eventually,
  findOnKafka,
  insiderHeaders,
  invoke,
  processControl,
  query,
  services,
} from '@shop/testkit';
import { Redis } from 'ioredis';
import { type ServiceName, serviceList } from '../src/topology.ts';

jest.setTimeout(120_000);

let redis: Redis;
beforeAll(() => {
  redis = new Redis(process.env.SHOP_TEST_REDIS_URL!);
});
afterAll(() => redis.quit());

const knownUser = (userId: string) =>
  query('coupon', 'select user_id, source_event_id from known_users where user_id = $1', [userId]).then(
    (r) => r[0],
  );

/** The one service that may publish each topic (components/pubsub.yaml's publishingScopes). */
const producers: Record<string, ServiceName> = { 'user-events': 'user', 'order-events': 'order' };

/** Publishes a CloudEvent as the topic's producer would, straight through its sidecar's publish API. */
async function publishRaw(
  event: { id: string; type: string; subject: string; data: unknown },
  topic = 'user-events',
) {
  const sidecar = services[producers[topic]!].daprUrl;
  const res = await fetch(`${sidecar}/v1.0/publish/pubsub/${topic}?metadata.partitionKey=${event.subject}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...insiderHeaders(sidecar) },
    body: JSON.stringify({
      specversion: '1.0',
      source: 'e2e',
      datacontenttype: 'application/json',
      ...event,
    }),
  });
  expect(res.status).toBe(204);
}

describe('every service behind its sidecar', () => {
  test.each(serviceList.map((s) => s.name as ServiceName))(
    'When %s is called through Dapr, then /healthz and /readyz answer 200',
    async (name) => {
      const health = await invoke(name, name, 'GET', 'healthz');
      expect(health.status).toBe(200);
      const ready = await invoke(name, name, 'GET', 'readyz');
      expect(Object.values(ready.body.checks).every((check) => check === 'ok')).toBe(true);
      expect(ready).toMatchObject({
        status: 200,
        body: { status: 'ready', checks: { database: 'ok', sidecar: 'ok' } },
      });
    },
  );
});

describe('(a) pub/sub through Kafka', () => {
  test('When a user registers on the user service, then the coupon service receives UserRegistered', async () => {
    const email = `a-${randomUUID()}@example.com`;
    const created = await invoke('order', 'user', 'POST', 'users', { email, name: 'Pub Sub' });
    expect(created.status).toBe(201);
    const row = await eventually('coupon to record the user', () => knownUser(created.body.id));
    expect(row).toMatchObject({ user_id: created.body.id });
    const [outbox] = await query('user', 'select published_at from outbox where subject = $1', [
      created.body.id,
    ]);
    expect(outbox?.published_at).toBeInstanceOf(Date);
  });
});

describe('(b) state store on Redis', () => {
  test('When state is saved through a sidecar, then it is read back and lives in Redis', async () => {
    // daprd's own state API: the services keep no state there themselves (actors and workflows do).
    const store = `${services.order.daprUrl}/v1.0/state/statestore`;
    const key = `e2e-${randomUUID()}`;
    const value = { step: 'deductStock', attempts: 2 };
    expect((await call('POST', store, [{ key, value }])).status).toBe(204);
    expect((await call('GET', `${store}/${key}`)).body).toEqual(value);
    // Dapr's Redis store keeps each key as a hash under "<app-id>||<key>".
    expect(JSON.parse((await redis.hget(`order||${key}`, 'data'))!)).toEqual(value);
    expect((await call('DELETE', `${store}/${key}`)).status).toBe(204);
    expect((await call('GET', `${store}/${key}`)).status).toBe(204);
  });
});

describe('(c) actors with placement', () => {
  test('When a coupon quota actor is called from another service, then it counts and persists its state', async () => {
    const couponId = randomUUID();
    const actor = (method: string, body?: unknown) =>
      call('PUT', `${services.user.daprUrl}/v1.0/actors/CouponQuotaActor/${couponId}/method/${method}`, body);
    expect((await actor('configure', { quota: 2 })).body).toEqual({ quota: 2, issued: 0 });
    const claim = () => ({ quota: 2, claims: [{ requestId: randomUUID(), userId: randomUUID() }] });
    const claims = [];
    for (let i = 0; i < 3; i++) claims.push((await actor('claimBatch', claim())).body.decisions[0]);
    expect(claims).toEqual([{ accepted: true }, { accepted: true }, { accepted: false, reason: 'SOLD_OUT' }]);

    const meta = await call(
      'GET',
      `${services.coupon.daprUrl}/v1.0/actors/CouponQuotaActor/${couponId}/state/meta`,
    );
    expect(meta).toMatchObject({ status: 200, body: { quota: 2, issued: 2 } });
    expect(await redis.exists(`coupon||CouponQuotaActor||${couponId}||meta`)).toBe(1);
  });

  test('When claims arrive concurrently, then the actor never accepts more than its quota', async () => {
    const couponId = randomUUID();
    const url = (m: string) =>
      `${services.coupon.daprUrl}/v1.0/actors/CouponQuotaActor/${couponId}/method/${m}`;
    await call('PUT', url('configure'), { quota: 5 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('PUT', url('claimBatch'), {
          quota: 5,
          claims: [{ requestId: randomUUID(), userId: randomUUID() }],
        }),
      ),
    );
    expect(results.filter((r) => r.body.decisions[0].accepted)).toHaveLength(5);
    expect((await call('PUT', url('status'))).body).toEqual({ quota: 5, issued: 5 });
  });
});

describe('(d) Dapr Workflow with the scheduler', () => {
  test('When the self-test workflow starts, then both activities run and it completes', async () => {
    const started = await invoke('order', 'order', 'POST', 'ops/workflow-self-test');
    expect(started.status).toBe(202);
    const done = await eventually(
      'the workflow to complete',
      async () => {
        const r = await invoke('order', 'order', 'GET', `ops/workflow-self-test/${started.body.instanceId}`);
        return r.body.status === 'COMPLETED' || r.body.status === 'FAILED' ? r.body : undefined;
      },
      60_000,
    );
    expect(done).toMatchObject({ status: 'COMPLETED', output: { database: 'ok', sidecar: 'ok' } });
  });
});

describe('(e) outbox while the sidecar is down', () => {
  test('When the user sidecar is stopped, then the event waits in the outbox and is published once it is back', async () => {
    await processControl('user-dapr', 'stop');
    let userId: string;
    try {
      const created = await call('POST', `${services.user.appUrl}/users`, {
        email: `e-${randomUUID()}@example.com`,
        name: 'Offline',
      });
      expect(created.status).toBe(201);
      userId = created.body.id;
      const pending = await eventually('a failed publish attempt', async () => {
        const [row] = await query<{ attempts: number; published_at: Date | null }>(
          'user',
          'select attempts, published_at from outbox where subject = $1',
          [userId],
        );
        return row && row.attempts > 0 ? row : undefined;
      });
      expect(pending.published_at).toBeNull();
      expect(await knownUser(userId)).toBeUndefined();
    } finally {
      await processControl('user-dapr', 'start');
    }
    const row = await eventually(
      'coupon to receive the event after the sidecar came back',
      () => knownUser(userId),
      60_000,
    );
    expect(row).toMatchObject({ user_id: userId });
  });
});

describe('(f) dead letters and the inbox', () => {
  test('When an event can never be handled, then it lands in the dead-letter topic and is stored for re-drive', async () => {
    const id = uuidv7();
    await publishRaw({ id, type: 'UserRegistered', subject: 'broken', data: { userId: 'not-a-uuid' } });
    const letter = await eventually('the dead letter', async () => {
      const r = await invoke('coupon', 'coupon', 'GET', 'ops/dead-letters');
      return r.body.items.find((i: { eventId: string }) => i.eventId === id);
    });
    expect(letter).toMatchObject({ topic: 'user-events', eventType: 'UserRegistered', redrivenAt: null });
  });

  test('When the same event is delivered twice, then it is applied once and not dead-lettered', async () => {
    const userId = randomUUID();
    const id = uuidv7();
    const event = { id, type: 'UserRegistered', subject: userId, data: { userId } };
    await publishRaw(event);
    await publishRaw(event);
    // A later event on the same key is delivered after both copies (same partition, in order).
    const marker = randomUUID();
    await publishRaw({ id: uuidv7(), type: 'UserRegistered', subject: userId, data: { userId: marker } });
    await eventually('the marker event', () => knownUser(marker));

    expect(await query('coupon', 'select * from known_users where user_id = $1', [userId])).toHaveLength(1);
    expect(await query('coupon', 'select * from inbox where event_id = $1', [id])).toHaveLength(1);
    expect(await query('coupon', 'select * from dead_letters where event_id = $1', [id])).toHaveLength(0);
  });

  test("When an event fails in one consumer only, then it is in that consumer's dead letters only", async () => {
    // OrderCompleted for an order that does not exist: product ranks nothing and is done;
    // user cannot find the buyer to notify and dead-letters it.
    const id = uuidv7();
    const orderId = randomUUID();
    await publishRaw({ id, type: 'OrderCompleted', subject: orderId, data: { orderId } }, 'order-events');

    const letter = await eventually('the dead letter in user', async () => {
      const r = await invoke('user', 'user', 'GET', 'ops/dead-letters');
      return r.body.items.find((i: { eventId: string }) => i.eventId === id);
    });
    expect(letter).toMatchObject({ topic: 'order-events', eventType: 'OrderCompleted', redrivenAt: null });
    await findOnKafka('order-events.user.dlq', (e) => e.id === id);
    await eventually('product to apply the event', async () => {
      const rows = await query('product', 'select * from inbox where consumer = $1 and event_id = $2', [
        'product.ranking',
        id,
      ]);
      return rows.length === 1;
    });

    const product = await invoke('product', 'product', 'GET', 'ops/dead-letters');
    expect(product.body.items.map((i: { eventId: string }) => i.eventId)).not.toContain(id);
    expect(await query('product', 'select * from dead_letters where event_id = $1', [id])).toEqual([]);
    // Only the service that failed it can re-drive it.
    expect((await invoke('product', 'product', 'POST', `ops/dead-letters/${letter.id}/redrive`)).status).toBe(
      404,
    );

    // Each sidecar reads its own dead-letter topic and no other's.
    const deadLetterTopics = async (name: ServiceName) => {
      const metadata = await call('GET', `${services[name].daprUrl}/v1.0/metadata`);
      const subs: { topic: string; deadLetterTopic?: string }[] = metadata.body.subscriptions;
      return subs.filter((sub) => sub.topic.endsWith('.dlq') || sub.deadLetterTopic);
    };
    expect(await deadLetterTopics('product')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'order-events', deadLetterTopic: 'order-events.product.dlq' }),
        expect.objectContaining({ topic: 'order-events.product.dlq' }),
      ]),
    );
    expect((await deadLetterTopics('product')).map((sub) => sub.topic)).not.toContain(
      'order-events.user.dlq',
    );
    expect((await deadLetterTopics('user')).map((sub) => sub.topic)).toEqual(
      expect.arrayContaining(['order-events', 'order-events.user.dlq']),
    );
  });

  test('When a dead letter is re-driven, then the consumer handles it again itself (publishing nothing): refused while its cause lasts, applied once it is fixed', async () => {
    // OrderCompleted for an order the order service does not know yet: the user service cannot
    // find the buyer to notify.
    const id = uuidv7();
    const orderId = randomUUID();
    const buyer = (
      await call('POST', `${services.user.appUrl}/users`, {
        email: `dl-${randomUUID()}@example.com`,
        name: 'DL',
      })
    ).body.id;
    await publishRaw({ id, type: 'OrderCompleted', subject: orderId, data: { orderId } }, 'order-events');
    const letter = await eventually('the dead letter in user', async () => {
      const r = await invoke('user', 'user', 'GET', 'ops/dead-letters');
      return r.body.items.find((i: { eventId: string }) => i.eventId === id);
    });
    const redrive = () => invoke('user', 'user', 'POST', `ops/dead-letters/${letter.id}/redrive`);
    const refused = await redrive();
    expect({ status: refused.status, type: refused.body.type }).toEqual({
      status: 409,
      type: 'urn:shop-on-dapr:problem:redrive-failed',
    });
    expect(refused.body.detail).toMatch(/does not exist/);

    // The cause fixed: the order is there now.
    await query(
      'order',
      "insert into orders (id, user_id, status, total_amount) values ($1, $2, 'COMPLETED', 1000)",
      [orderId, buyer],
    );
    const done = await redrive();
    expect(done.status).toBe(202);
    expect(done.body.redrivenAt).not.toBeNull();
    expect(await query('user', 'select kind from notifications where order_id = $1', [orderId])).toEqual([
      { kind: 'OrderCompleted' },
    ]);
    // Once only, whatever the repeats; and nothing went back onto the producer's topic.
    expect((await redrive()).status).toBe(202);
    expect(await query('user', 'select 1 from notifications where order_id = $1', [orderId])).toHaveLength(1);
    expect(await query('user', "select 1 from outbox where topic = 'order-events'")).toEqual([]);
  });
});
