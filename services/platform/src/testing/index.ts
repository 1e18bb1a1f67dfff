import type { MikroORM } from '@mikro-orm/postgresql';
import type Koa from 'koa';
import type { z } from 'zod';
import { type BaseConfig, baseConfigSchema, loadConfig } from '../config/load-config.ts';
import { DaprSidecar } from '../dapr/sidecar.ts';
import { initOrm, migrate } from '../db/orm.ts';
import { createLogger } from '../logger.ts';
import { assembleApp, type ServiceDefinition } from '../service.ts';
import { createTestDatabase } from './test-database.ts';

export { eventually } from './eventually.ts';
export { adminUrl, createTestDatabase } from './test-database.ts';

export interface ServiceUnderTest {
  app: Koa;
  orm: MikroORM;
  /** How many times the service asked the outbox relay to run. */
  outboxNudges: () => number;
  close: () => Promise<void>;
}

/**
 * A service's real Koa app on its own fresh, migrated database, for API tests
 * with supertest. No sidecar runs: calls to Dapr fail as if it were down,
 * which the outbox is built to survive, unless `env.DAPR_HTTP_PORT` points at
 * a stand-in the test serves.
 */
export async function startServiceUnderTest<S extends z.ZodObject>(
  name: string,
  definition: ServiceDefinition<S>,
  env: Record<string, string> = {},
): Promise<ServiceUnderTest> {
  const db = await createTestDatabase(name);
  const config = loadConfig(definition.configSchema ?? baseConfigSchema, {
    APP_ID: name,
    DATABASE_URL: db.url,
    DAPR_HTTP_PORT: '1',
    ...env,
  }) as z.infer<S> & BaseConfig;
  const orm = await initOrm({
    clientUrl: db.url,
    entities: definition.entities,
    migrations: definition.migrations,
  });
  await migrate(orm);
  // SHOP_TEST_LOG_LEVEL=debug shows what the service logged (errors behind a 500, say).
  const log = createLogger(name, process.env.SHOP_TEST_LOG_LEVEL ?? 'silent');
  const sidecar = new DaprSidecar({
    host: '127.0.0.1',
    httpPort: config.DAPR_HTTP_PORT,
    pubsubName: 'pubsub',
  });
  let nudges = 0;
  const deps = { config, log, orm, sidecar, outboxWritten: () => void nudges++ };
  const parts = await definition.build(deps);
  return {
    app: assembleApp(deps, parts),
    orm,
    outboxNudges: () => nudges,
    close: async () => {
      await parts.onStopping?.();
      await orm.close();
      await db.drop();
    },
  };
}
