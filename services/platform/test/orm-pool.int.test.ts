import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { initOrm } from '../src/index.ts';
import { createTestDatabase, eventually } from '../src/testing/index.ts';

jest.setTimeout(30_000);

let orm: MikroORM;
let admin: pg.Client;
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase('orm_pool');
  drop = db.drop;
  orm = await initOrm({ clientUrl: db.url, poolMax: 2, reclaimAfterMs: 300 });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
  await orm.close();
  await drop();
});

describe('the connection pool when the server drops connections', () => {
  test('When every pooled connection is dropped in the middle of a transaction, then the pool takes them back and the next query runs', async () => {
    // As when Postgres stops under load: the server ends the backend, the transaction's commit and
    // rollback both fail on the dead connection, and the ORM's driver never releases it.
    for (let i = 0; i < 2; i++) {
      await expect(
        orm.em.fork().transactional(async (tx) => {
          const [row] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
          await admin.query('select pg_terminate_backend($1)', [row!.pid]);
          await tx.execute('select 1');
        }),
      ).rejects.toThrow();
    }
    const [row] = await eventually(
      'a query to get a connection again',
      () => orm.em.fork().execute<{ one: number }[]>('select 1 as one'),
      20_000,
    );
    expect(row!.one).toBe(1);
  });
});
