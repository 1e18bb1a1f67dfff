import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  addToOutbox,
  createLogger,
  type DomainEvent,
  initOrm,
  migrate,
  newEvent,
  OutboxRelay,
} from '../src/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';

let orm: MikroORM;
let drop: () => Promise<void>;
const log = createLogger('test', 'silent');

beforeAll(async () => {
  const db = await createTestDatabase('outbox');
  drop = db.drop;
  orm = await initOrm({ clientUrl: db.url });
  await migrate(orm);
});

afterAll(async () => {
  await orm.close();
  await drop();
});

const event = (subject: string, n: number) =>
  newEvent({ topic: 'test-events', type: 'Thing', source: 'test', subject, data: { n } });

describe('outbox relay', () => {
  test('When the change rolls back, then its event is not in the outbox', async () => {
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await addToOutbox(tx, event('rolled-back', 0));
        throw new Error('business failure');
      }),
    ).rejects.toThrow('business failure');
    const rows = await orm.em.fork().execute("select * from outbox where subject = 'rolled-back'");
    expect(rows).toHaveLength(0);
  });

  test('When publishing fails, then the events stay and are published later, in order', async () => {
    const events = [event('agg-1', 1), event('agg-1', 2), event('agg-1', 3)];
    await orm.em.fork().transactional(async (tx) => {
      for (const e of events) await addToOutbox(tx, e);
    });

    const published: DomainEvent[] = [];
    let sidecarUp = false;
    const relay = new OutboxRelay(
      orm.em,
      {
        publish: async (e) => {
          if (!sidecarUp) throw new Error('connect ECONNREFUSED');
          published.push(e);
        },
      },
      log,
      { pollMs: 10 },
    );

    expect(await relay.tick()).toBe(0);
    const [first] = await orm.em
      .fork()
      .execute<{ attempts: number; last_error: string; published_at: Date | null }[]>(
        "select attempts, last_error, published_at from outbox where subject = 'agg-1' order by id limit 1",
      );
    expect(first).toMatchObject({ attempts: 1, published_at: null });
    expect(first?.last_error).toContain('ECONNREFUSED');

    sidecarUp = true;
    expect(await relay.tick()).toBe(3);
    expect(published.map((e) => e.data.n)).toEqual([1, 2, 3]);
    expect(published.map((e) => e.id)).toEqual(events.map((e) => e.id));

    expect(await relay.tick()).toBe(0);
    expect(published).toHaveLength(3);
  });
});
