import type { Migration } from '@mikro-orm/migrations';
import { Migrator } from '@mikro-orm/migrations';
import { DriverException, type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { platformEntities } from './platform.entities.ts';
import { platformMigrations } from './platform.migrations.ts';

export type { EntityManager };
export interface NamedMigration {
  /** Stable name recorded in the migrations table; never change it once applied. */
  name: string;
  class: new (...args: ConstructorParameters<typeof Migration>) => Migration;
}

export interface OrmOptions {
  clientUrl: string;
  // biome-ignore lint/suspicious/noExplicitAny: MikroORM entity schemas are heterogeneous
  entities?: any[];
  /** The service's own migrations, in order; the platform's run first. */
  migrations?: NamedMigration[];
  /** See DATABASE_POOL_MAX in config/load-config.ts for how it is chosen. */
  poolMax?: number;
  /** How long a checked-out connection the server dropped may stay unreleased before the pool takes it back. */
  reclaimAfterMs?: number;
}

/** Longer than any caller takes to release a connection after its query failed. */
const RECLAIM_AFTER_MS = 10_000;
/** Waiting for a pooled connection fails after this instead of hanging for good. */
const ACQUIRE_TIMEOUT_MS = 10_000;

/**
 * Takes back pooled connections that are never released. When a transaction's
 * commit or rollback fails because the server dropped the connection (Postgres
 * stopped), kysely's controlled transaction — which MikroORM 7 uses — skips
 * release(), so the pool counts the dead client as busy for good; a few of
 * those and nothing gets a connection again (seen: the coupon service silent
 * after Postgres was stopped for 8 s). A checked-out client whose connection
 * ended and that is still not released after `afterMs` is released here, with
 * an error, so that the pool drops it and opens a fresh one.
 */
export function reclaimDroppedConnections(pool: pg.Pool, afterMs = RECLAIM_AFTER_MS): void {
  const busy = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => busy.add(client));
  pool.on('release', (_err, client) => busy.delete(client));
  pool.on('connect', (client) => {
    client.once('end', () => {
      setTimeout(() => {
        if (!busy.has(client)) return;
        busy.delete(client);
        client.release(new Error('the server dropped this connection while it was checked out'));
      }, afterMs).unref();
    });
  });
}

/**
 * Connects MikroORM to the service's own database. Migrations are listed in
 * code rather than discovered from disk, so the same list works under node,
 * jest and in a container image.
 */
export async function initOrm(options: OrmOptions): Promise<MikroORM> {
  const migrations = [...platformMigrations, ...(options.migrations ?? [])];
  return MikroORM.init({
    clientUrl: options.clientUrl,
    entities: [...platformEntities, ...(options.entities ?? [])],
    extensions: [Migrator],
    migrations: {
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: options.poolMax ?? 8 },
    driverOptions: {
      connectionTimeoutMillis: ACQUIRE_TIMEOUT_MS,
      onPoolCreated: (pool: pg.Pool) => reclaimDroppedConnections(pool, options.reclaimAfterMs),
    },
    debug: false,
  });
}

/** Key of the session-level advisory lock that serialises migrations of one database. */
const MIGRATION_LOCK = 7_343_270_001;

/**
 * Applies pending migrations; returns their names. Pods of a service start
 * together (replicas, a rolling update) and each migrates first: the advisory
 * lock lets one apply while the others wait, and they then find nothing to do.
 */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const lock = new pg.Client({ connectionString: orm.config.get('clientUrl') });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    // Closing the session releases the lock, also when a migration failed.
    await lock.end();
  }
}

/**
 * Serialises the transactions that name `key` until this one ends (an advisory
 * lock held to its commit): for what may have no row yet to lock, such as an
 * order's first call of a saga step, which must not race its compensation.
 * The platform's one raw lock: neither em nor Kysely has a word for it.
 */
export async function lockForTransaction(tx: EntityManager, key: string): Promise<void> {
  await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [key]);
}

/** Readiness: the smallest statement the server must answer (raw: there is nothing to map). */
export async function pingDatabase(em: EntityManager): Promise<void> {
  await em.fork().execute('select 1');
}

/**
 * Runs queries of em.getKysely(): their errors are the pg driver's own, and
 * come out as MikroORM's (UniqueConstraintViolationException…), as those of
 * em's own calls do, so that a caller tells a conflict from a failure.
 */
export async function withDriverErrors<T>(em: EntityManager, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // pg's errors carry a code (an SQLSTATE, or ECONNREFUSED…); anything else is ours and stays as it is.
    const fromDriver = err instanceof Error && 'code' in err && !(err instanceof DriverException);
    throw fromDriver ? em.getDriver().convertException(err) : err;
  }
}
