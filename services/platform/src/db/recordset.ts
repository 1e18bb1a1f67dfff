import { type AliasedRawBuilder, sql } from 'kysely';

/** The Postgres types a recordset's column may be read as. */
type ColumnType = 'uuid' | 'text' | 'bigint' | 'integer' | 'timestamptz';

/**
 * Rows sent as one JSON parameter and read as a table, `jsonb_to_recordset`:
 * a set-based statement's input however many rows there are (a batch of 500
 * is one parameter, not 1,500), for Kysely's `selectFrom` or an update's
 * `from`. Kysely has no word for a function with a column list; this is it.
 */
export function jsonRecordset<Row extends Record<string, unknown>, Alias extends string>(
  alias: Alias,
  columns: { [K in keyof Row & string]: ColumnType },
  rows: Row[],
): AliasedRawBuilder<Row, Alias> {
  const list = Object.entries(columns).map(([name, type]) => sql`${sql.id(name)} ${sql.raw(type as string)}`);
  return sql<Row>`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)`.as<Alias>(
    sql`${sql.id(alias)}(${sql.join(list)})`,
  );
}

/** For `where(column, '=', anyUuid(ids))`: `= any($1::uuid[])`, one parameter however many ids (`in (…)` takes one each). */
export const anyUuid = (ids: string[]) => sql<string>`any(${ids}::uuid[])`;
