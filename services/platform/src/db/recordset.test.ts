import { describe, expect, test } from '@jest/globals';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { jsonRecordset } from './recordset.ts';

const db = new Kysely<{ t: { id: string } }>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('jsonRecordset', () => {
  test('When rows are read as a table, then they are one JSON parameter with a typed column list', () => {
    const rows = [
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
    ];
    const query = db
      .selectFrom(jsonRecordset('r', { id: 'uuid', n: 'integer' }, rows))
      .select(['r.id', 'r.n'])
      .compile();
    expect(query.sql).toBe(
      'select "r"."id", "r"."n" from jsonb_to_recordset($1::jsonb) as "r"("id" uuid, "n" integer)',
    );
    expect(query.parameters).toEqual([JSON.stringify(rows)]);
  });
});
