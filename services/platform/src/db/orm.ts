import type { Migration } from '@mikro-orm/migrations';
import { Migrator } from '@mikro-orm/migrations';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
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
    entities: options.entities ?? [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: options.poolMax ?? 8 },
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

export async function pingDatabase(em: EntityManager): Promise<void> {
  await em.fork().execute('select 1');
}
