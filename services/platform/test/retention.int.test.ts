import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  baseConfigSchema,
  consumeOnce,
  initOrm,
  metricsRegistry,
  migrate,
  platformRetention,
  sweepRetention,
} from '../src/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';

let orm: MikroORM;
let drop: () => Promise<void>;

// The defaults a service starts with: inbox 14 days, published outbox 7, re-driven dead letters 30.
const rules = platformRetention(
  baseConfigSchema.parse({ APP_ID: 'retention-test', DATABASE_URL: 'postgres://x@localhost/x' }),
);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

beforeAll(async () => {
  const db = await createTestDatabase('retention');
  drop = db.drop;
  orm = await initOrm({ clientUrl: db.url });
  await migrate(orm);
});

afterAll(async () => {
  await orm.close();
  await drop();
});

const rows = async (sql: string) => orm.em.fork().execute(sql);

async function inbox(eventId: string, processed: Date) {
  await orm.em
    .fork()
    .execute('insert into inbox (consumer, event_id, processed_at) values (?, ?, ?)', [
      'test.consumer',
      eventId,
      processed,
    ]);
}

async function outbox(id: string, created: Date, published: Date | null) {
  await orm.em.fork().execute(
    `insert into outbox (id, topic, event_type, subject, event, created_at, published_at)
       values (?, 'test-events', 'Tested', 'subject', '{}', ?, ?)`,
    [id, created, published],
  );
}

async function deadLetter(id: string, received: Date, redriven: Date | null) {
  await orm.em.fork().execute(
    `insert into dead_letters (id, topic, event_id, event, received_at, redriven_at)
       values (?, 'test-events', ?, '{}', ?, ?)`,
    [id, `evt-${id}`, received, redriven],
  );
}

const deletedCount = async (table: string) =>
  (await metricsRegistry.getSingleMetric('retention_deleted_rows_total')!.get()).values.find(
    (v) => v.labels.table === table,
  )?.value ?? 0;

describe('the retention sweep', () => {
  test('When rows are past their retention, then they are deleted, and nothing still in use or recent is', async () => {
    await inbox('old-1', daysAgo(15));
    await inbox('old-2', daysAgo(20));
    await inbox('recent', daysAgo(13));
    const ids = {
      publishedOld: '00000000-0000-7000-8000-000000000001',
      publishedRecent: '00000000-0000-7000-8000-000000000002',
      unpublishedOld: '00000000-0000-7000-8000-000000000003',
      redrivenOld: '00000000-0000-7000-8000-000000000004',
      waitingOld: '00000000-0000-7000-8000-000000000005',
      redrivenRecent: '00000000-0000-7000-8000-000000000006',
    };
    await outbox(ids.publishedOld, daysAgo(9), daysAgo(8));
    await outbox(ids.publishedRecent, daysAgo(9), daysAgo(6));
    // Never published (the broker was down for weeks): it must still go out.
    await outbox(ids.unpublishedOld, daysAgo(60), null);
    await deadLetter(ids.redrivenOld, daysAgo(40), daysAgo(31));
    // Never re-driven: it waits for an operator, however old.
    await deadLetter(ids.waitingOld, daysAgo(90), null);
    await deadLetter(ids.redrivenRecent, daysAgo(40), daysAgo(29));
    const before = await deletedCount('inbox');

    expect(await sweepRetention(orm.em, rules)).toEqual({ inbox: 2, outbox: 1, dead_letters: 1 });

    expect(await rows('select event_id from inbox order by event_id')).toEqual([{ event_id: 'recent' }]);
    expect((await rows('select id from outbox order by id')).map((r) => r.id)).toEqual([
      ids.publishedRecent,
      ids.unpublishedOld,
    ]);
    expect((await rows('select id from dead_letters order by id')).map((r) => r.id)).toEqual([
      ids.waitingOld,
      ids.redrivenRecent,
    ]);
    expect(await deletedCount('inbox')).toBe(before + 2);
    // What is kept still deduplicates; a second pass finds nothing more.
    expect(await consumeOnce(orm.em, 'test.consumer', 'recent', async () => {})).toBe(false);
    expect(await sweepRetention(orm.em, rules)).toEqual({ inbox: 0, outbox: 0, dead_letters: 0 });
  });

  test('When far more rows expired than one batch holds, then one pass deletes them all, batch by batch', async () => {
    await orm.em.fork().execute(
      `insert into inbox (consumer, event_id, processed_at)
         select 'bulk', 'evt-' || n, now() - interval '30 days' from generate_series(1, 2500) n`,
    );
    expect((await sweepRetention(orm.em, rules, { batchSize: 1000 })).inbox).toBe(2500);
    expect(await rows("select 1 from inbox where consumer = 'bulk'")).toEqual([]);
  });

  test('When a sweep looks for expired rows, then it reads each table by the index on the rule’s column, not the whole table', async () => {
    for (const { table, column } of rules) {
      const plan = await orm.em.fork().transactional(async (tx) => {
        // On tables this small the planner would rather scan them: only the index's use is asked.
        await tx.execute('set local enable_seqscan = off');
        return tx.execute(`explain select ctid from ${table} where ${column} < now() limit 1000`);
      });
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      // Its own index (named table_column; an index or bitmap scan), not a walk through the primary key's.
      expect({ table, index: new RegExp(`\\b${table}_${column}\\b`).test(text) }).toEqual({
        table,
        index: true,
      });
    }
  });
});
