import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import { initOrm, migrate } from '../src/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';

let orms: MikroORM[] = [];
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase('migrate');
  drop = db.drop;
  // Three pods of one service starting together, each migrating first.
  orms = await Promise.all([1, 2, 3].map(() => initOrm({ clientUrl: db.url })));
});

afterAll(async () => {
  await Promise.all(orms.map((o) => o.close()));
  await drop();
});

describe('migrate', () => {
  test('When several processes migrate one database at once, then one applies each migration and the others wait and find nothing to do', async () => {
    const results = await Promise.all(orms.map((orm) => migrate(orm)));
    const applied = results.filter((names) => names.length > 0);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toContain('20261122-platform-outbox-inbox-dead-letters');
    const rows = await orms[0]!.em
      .fork()
      .execute("select count(*)::int as n from mikro_orm_migrations where name like '20261122-platform%'");
    expect(rows[0]).toEqual({ n: 1 });
    expect(await migrate(orms[1]!)).toEqual([]);
  });
});
