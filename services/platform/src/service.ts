import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type Koa from 'koa';
import type { z } from 'zod';
import { type ActorType, actorHostRouter } from './actors/actor-host.ts';
import { createApp } from './app.ts';
import { type BaseConfig, baseConfigSchema, loadOrExit } from './config/load-config.ts';
import { DaprSidecar } from './dapr/sidecar.ts';
import { type EntityManager, initOrm, migrate, type NamedMigration, pingDatabase } from './db/orm.ts';
import type { ReadinessCheck } from './http/health.router.ts';
import type { Routes } from './http/routes.ts';
import { serve } from './http/serve.ts';
import { createLogger, type Logger } from './logger.ts';
import { definePlatformGauges, initMetrics, metricsRouter, serveMetrics } from './observability/metrics.ts';
import { initTracing } from './observability/tracing.ts';
import { openApiRouter } from './openapi/openapi.router.ts';
import { serviceDocument } from './openapi/openapi-document.ts';
import { OutboxRelay } from './outbox/outbox-relay.ts';
import { deadLettersRoutes } from './pubsub/dead-letters.router.ts';
import { type EventHandler, eventDelivery, subscriptionsRouter } from './pubsub/subscriptions.ts';
import { platformRetention, type RetentionRule, startRetentionSweeps } from './retention/retention.ts';
import {
  assembleStatelessApp,
  type StatelessConfig,
  type StatelessServiceDefinition,
  statelessConfigSchema,
} from './stateless-service.ts';

export interface ServiceDeps<C extends BaseConfig = BaseConfig> {
  config: C;
  log: Logger;
  orm: MikroORM;
  sidecar: DaprSidecar;
  /** Call after a transaction that wrote to the outbox, to publish without waiting for the next poll. */
  outboxWritten: () => void;
}

/** What a service adds to the platform: its routes, event handlers, actors and hooks. */
export interface ServiceParts {
  /** Its routes, each with its contract (`Routes`): served, and listed in `/openapi.json`. */
  routes?: Routes[];
  eventHandlers?: EventHandler[];
  actors?: ActorType[];
  /** More readiness checks than the database and the sidecar (e.g. Redis). */
  readiness?: Record<string, ReadinessCheck>;
  /** Its own tables' retention, swept with the platform's (inbox, published outbox, re-driven dead letters). */
  retention?: RetentionRule[];
  /**
   * Runs once the HTTP server listens. The sidecar may not be up yet (it
   * waits for the app): whatever needs it must wait for it without blocking.
   */
  onStarted?: () => Promise<void>;
  /** Runs on shutdown before the database is closed. */
  onStopping?: () => Promise<void>;
}

export interface ServiceDefinition<S extends z.ZodObject = typeof baseConfigSchema> {
  configSchema?: S;
  // biome-ignore lint/suspicious/noExplicitAny: MikroORM entity schemas are heterogeneous
  entities?: any[];
  migrations?: NamedMigration[];
  /** Demo data for the local platform, loaded at start when SEED_DEMO_DATA=true; must be idempotent. */
  seed?: (em: EntityManager) => Promise<void>;
  build(deps: ServiceDeps<z.infer<S> & BaseConfig>): ServiceParts | Promise<ServiceParts>;
}

/** Builds the Koa app of a service from its parts plus the platform's own routes. */
export function assembleApp(deps: ServiceDeps, parts: ServiceParts) {
  const em = deps.orm.em;
  definePlatformGauges(em);
  const delivery = eventDelivery(em, deps.log, parts.eventHandlers ?? [], deps.outboxWritten);
  const routes = [deadLettersRoutes(em, delivery.deliver), ...(parts.routes ?? [])];
  return createApp({
    log: deps.log,
    routers: [
      metricsRouter(),
      subscriptionsRouter(em, deps.log, delivery),
      actorHostRouter(parts.actors ?? [], deps.sidecar, deps.log),
      ...routes.map((r) => r.router),
      openApiRouter(
        serviceDocument(
          deps.config.APP_ID,
          routes.flatMap((r) => r.operations),
        ),
      ),
    ],
    appApiToken: deps.config.APP_API_TOKEN,
    readiness: {
      database: () => pingDatabase(em),
      sidecar: () => deps.sidecar.isHealthy(),
      ...parts.readiness,
    },
  });
}

/** A started service: what its stop runs (before the tracer is flushed), and what runs once it listens. */
interface Running {
  app: Koa;
  stop: () => Promise<void>;
  started: () => Promise<void>;
}

/**
 * The main of every service, with a database or without one (the gateway:
 * `stateless`): validated config, logger, tracing, the sidecar's client; for
 * a service with data also the database (migrated if asked), metrics, the
 * outbox relay, event delivery and the retention sweep; then the HTTP server and a graceful stop on
 * SIGTERM/SIGINT (stop taking requests, finish the relay, close the pool).
 */
export async function runService<S extends z.ZodObject>(
  definition: ServiceDefinition<S> | StatelessServiceDefinition<S>,
): Promise<void> {
  const stateless = 'stateless' in definition;
  const schema = (definition.configSchema ?? (stateless ? statelessConfigSchema : baseConfigSchema)) as S;
  const config = loadOrExit(schema) as z.infer<S> & StatelessConfig & Partial<BaseConfig>;
  const log = createLogger(config.APP_ID, config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const tracing = initTracing({
    serviceName: config.APP_ID,
    zipkinUrl: config.TRACING_ZIPKIN_URL,
    samplingRate: config.TRACING_SAMPLING_RATE,
  });
  const sidecar = new DaprSidecar({
    host: config.DAPR_HOST,
    httpPort: config.DAPR_HTTP_PORT,
    pubsubName: config.PUBSUB_NAME ?? 'pubsub',
    apiToken: config.DAPR_API_TOKEN,
  });
  const running = stateless
    ? startStateless(definition, { config, log, sidecar })
    : await startWithData(definition, { config: config as z.infer<S> & BaseConfig, log, sidecar });
  await serve(running.app, {
    port: config.PORT,
    host: config.HOST,
    log,
    graceMs: config.SHUTDOWN_GRACE_MS,
    onStopping: async () => {
      await running.stop();
      await tracing.shutdown();
    },
  });
  await running.started();
}

function startStateless<S extends z.ZodObject>(
  definition: StatelessServiceDefinition<S>,
  deps: { config: z.infer<S> & StatelessConfig; log: Logger; sidecar: DaprSidecar },
): Running {
  initMetrics(deps.config.APP_ID);
  const parts = definition.build(deps);
  let metrics: Server | undefined;
  return {
    app: assembleStatelessApp(deps, parts),
    stop: async () => {
      await parts.onStopping?.().catch((err) => deps.log.error({ err }, 'error while stopping'));
      if (metrics) await new Promise((resolve) => metrics?.close(resolve));
    },
    started: async () => {
      if (deps.config.METRICS_PORT) metrics = await serveMetrics(deps.config.METRICS_PORT, deps.config.HOST);
    },
  };
}

async function startWithData<S extends z.ZodObject>(
  definition: ServiceDefinition<S>,
  { config, log, sidecar }: { config: z.infer<S> & BaseConfig; log: Logger; sidecar: DaprSidecar },
): Promise<Running> {
  if (!config.APP_API_TOKEN) {
    // Without it the app would answer anyone who reaches its port, around its sidecar.
    console.error(
      `${config.APP_ID}: APP_API_TOKEN is not set. The service answers only its sidecar, which sends it this token (daprd's APP_API_TOKEN).`,
    );
    process.exit(1);
  }
  initMetrics(config.APP_ID);
  const orm = await initOrm({
    clientUrl: config.DATABASE_URL,
    entities: definition.entities,
    migrations: definition.migrations,
    poolMax: config.DATABASE_POOL_MAX,
  });
  if (config.MIGRATE_ON_START) {
    const applied = await migrate(orm);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
  }
  if (config.SEED_DEMO_DATA && definition.seed) {
    await definition.seed(orm.em.fork());
    log.info('demo data loaded');
  }
  const relay = new OutboxRelay(orm.em, sidecar, log.child({ component: 'outbox-relay' }), {
    pollMs: config.OUTBOX_POLL_MS,
    batchSize: config.OUTBOX_BATCH_SIZE,
  });
  const deps: ServiceDeps<typeof config> = { config, log, orm, sidecar, outboxWritten: () => relay.nudge() };
  const parts = await definition.build(deps);
  let sweeps: { stop(): Promise<void> } | undefined;
  return {
    app: assembleApp(deps, parts),
    stop: async () => {
      await parts.onStopping?.().catch((err) => log.error({ err }, 'error while stopping'));
      await relay.stop();
      await sweeps?.stop();
      await orm.close();
    },
    started: async () => {
      relay.start();
      sweeps = startRetentionSweeps(
        orm.em,
        [...platformRetention(config), ...(parts.retention ?? [])],
        config,
        log.child({ component: 'retention' }),
      );
      await parts.onStarted?.();
    },
  };
}

/** `npm run migrate` in a service (and the chart's migration Job): apply and exit. */
export async function runMigrations(
  definition: Pick<ServiceDefinition<z.ZodObject>, 'entities' | 'migrations'>,
) {
  const config = loadOrExit(baseConfigSchema.pick({ APP_ID: true, DATABASE_URL: true, LOG_LEVEL: true }));
  const log = createLogger(config.APP_ID, config.LOG_LEVEL);
  const orm = await initOrm({
    clientUrl: config.DATABASE_URL,
    entities: definition.entities,
    migrations: definition.migrations,
  });
  try {
    const applied = await migrate(orm);
    log.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
  } finally {
    await orm.close();
  }
}
