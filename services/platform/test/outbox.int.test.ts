import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import {
  addManyToOutbox,
  addToOutbox,
  createLogger,
  type DomainEvent,
  initOrm,
  migrate,
  newEvent,
  OutboxRelay,
} from '../src/index.ts';
import { createTestDatabase, eventually } from '../src/testing/index.ts';

let orm: MikroORM;
let url: string;
let drop: () => Promise<void>;
const log = createLogger('test', 'silent');

beforeAll(async () => {
  const db = await createTestDatabase('outbox');
  drop = db.drop;
  url = db.url;
  orm = await initOrm({ clientUrl: db.url });
  await migrate(orm);
});

afterAll(async () => {
  await orm.close();
  await drop();
});

const pending = async () => {
  const [row] = await orm.em
    .fork()
    .execute<{ n: string }[]>('select count(*) as n from outbox where published_at is null');
  return Number(row?.n);
};

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

  test('When events go out in bulk and some entries fail, then the others are published, the failed ones later, and each aggregate stays in order', async () => {
    const events = [
      event('bulk-a', 1),
      event('bulk-b', 1),
      event('bulk-a', 2),
      event('bulk-c', 1),
      event('bulk-b', 2),
    ];
    await orm.em.fork().transactional(async (tx) => addManyToOutbox(tx, events));
    const calls: string[][] = [];
    const published: DomainEvent[] = [];
    let failB = true;
    const relay = new OutboxRelay(
      orm.em,
      {
        publish: () => Promise.reject(new Error('the relay must publish in bulk')),
        publishMany: async (_topic, entries) => {
          calls.push(entries.map((e) => `${e.event.subject}:${e.event.data.n}`));
          const failed = entries.filter((e) => failB && e.event.subject === 'bulk-b');
          published.push(...entries.filter((e) => !failed.includes(e)).map((e) => e.event));
          return failed.map((e) => e.entryId);
        },
      },
      log,
      { pollMs: 10 },
    );

    // The first round sends the head of each aggregate in one call; b fails, so the pass stops there.
    expect(await relay.tick()).toBe(2);
    expect(calls).toEqual([['bulk-a:1', 'bulk-b:1', 'bulk-c:1']]);
    failB = false;
    while ((await relay.tick()) > 0);
    const order = (subject: string) => published.filter((e) => e.subject === subject).map((e) => e.data.n);
    expect([order('bulk-a'), order('bulk-b'), order('bulk-c')]).toEqual([[1, 2], [1, 2], [1]]);
    expect(published).toHaveLength(5);
  });

  test('When two relays run at once, then each row is published once and each aggregate stays in order', async () => {
    const subjects = Array.from({ length: 10 }, (_, i) => `pair-${i}`);
    const events = Array.from({ length: 100 }, (_, i) => event(subjects[i % 10]!, Math.floor(i / 10)));
    await orm.em.fork().transactional(async (tx) => {
      for (const e of events) await addToOutbox(tx, e);
    });
    const log: { relay: string; event: DomainEvent }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const relay = (name: string) =>
      new OutboxRelay(
        orm.em,
        {
          publish: async (e) => {
            log.push({ relay: name, event: e });
            mostInFlight = Math.max(mostInFlight, ++inFlight);
            await sleep(2);
            inFlight -= 1;
          },
        },
        createLogger('test', 'silent'),
        { pollMs: 10, batchSize: 7 },
      );
    const drain = async (r: OutboxRelay) => {
      while ((await pending()) > 0) await r.tick();
    };
    await Promise.all([drain(relay('a')), drain(relay('b'))]);

    expect(log.map((l) => l.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    // Side by side, not one after the other.
    expect(mostInFlight).toBe(2);
    for (const subject of subjects) {
      const ns = log.filter((l) => l.event.subject === subject).map((l) => l.event.data.n);
      expect(ns).toEqual([...Array(10).keys()]);
    }
  });

  test('When a publish hangs, then its relay holds no transaction or lock, others go on, and its row is published when the lease ends', async () => {
    const stuck = event('hang', 0);
    const others = [event('free-1', 0), event('free-2', 0)];
    await orm.em.fork().transactional(async (tx) => {
      for (const e of [stuck, ...others]) await addToOutbox(tx, e);
    });
    let entered!: () => void;
    const inPublish = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const hanging = new OutboxRelay(
      orm.em,
      {
        publish: () => {
          entered();
          return new Promise<void>((r) => {
            release = r;
          });
        },
      },
      log,
      { pollMs: 10, batchSize: 1, leaseMs: 800, publishTimeoutMs: 200 },
    );
    const hangingTick = hanging.tick();
    await inPublish;

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const idle = await db.query(
        "select pid from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'",
      );
      expect(idle.rows).toEqual([]);
      // Another session can lock and change the claimed row at once: nothing holds it.
      await db.query('begin');
      await db.query("set local lock_timeout = '1s'");
      const locked = await db.query('select id from outbox where subject = $1 for update nowait', ['hang']);
      expect(locked.rows).toHaveLength(1);
      await db.query('rollback');
    } finally {
      await db.end();
    }

    const published: DomainEvent[] = [];
    const other = new OutboxRelay(orm.em, { publish: async (e) => void published.push(e) }, log, {
      pollMs: 10,
      leaseMs: 800,
      publishTimeoutMs: 200,
    });
    expect(await other.tick()).toBe(2);
    expect(published.map((e) => e.id).sort()).toEqual(others.map((e) => e.id).sort());

    // The hanging relay's lease ends: the row it claimed but never sent is published by the other.
    await eventually('the stuck row to be re-published', async () => {
      await other.tick();
      return published.some((e) => e.id === stuck.id);
    });
    const [row] = await orm.em
      .fork()
      .execute<{ published_at: Date | null }[]>('select published_at from outbox where subject = ?', [
        'hang',
      ]);
    expect(row?.published_at).not.toBeNull();

    release();
    expect(await hangingTick).toBe(1);
    expect(await pending()).toBe(0);
  });
});
