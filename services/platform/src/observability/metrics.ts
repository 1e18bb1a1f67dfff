import { createServer, type Server } from 'node:http';
import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/postgresql';
import Koa from 'koa';
import { sql } from 'kysely';
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { platformDb } from '../db/platform.entities.ts';

/**
 * The process's Prometheus metrics, served at `GET /metrics` on the app's
 * port (a public app's on METRICS_PORT), next to Dapr's own on the sidecar's
 * metrics port. Every series has
 * an `app_id` label, as Dapr's have, so one dashboard filter covers both.
 */
export const metricsRegistry = new Registry();

let defaultsCollected = false;

/** Node's own metrics (CPU, memory, event loop lag, GC) and the `app_id` label; once per process. */
export function initMetrics(appId: string): void {
  metricsRegistry.setDefaultLabels({ app_id: appId });
  if (defaultsCollected) return;
  collectDefaultMetrics({ register: metricsRegistry });
  defaultsCollected = true;
}

/**
 * A counter in the registry. Defined again under the same name (a test that
 * builds a service twice in one process) it replaces the first.
 */
export function defineCounter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
  metricsRegistry.removeSingleMetric(config.name);
  return new Counter({ ...config, registers: [metricsRegistry] });
}

/**
 * A gauge whose values are read when Prometheus scrapes (a query: rows per
 * state, a backlog). `read` returns one value per label set; a label set that
 * no longer appears is reported as 0, so a state that emptied shows 0, not its
 * last value. A failed read leaves the series out of that scrape.
 */
export function defineScrapedGauge<L extends string>(config: {
  name: string;
  help: string;
  labelNames?: readonly L[];
  read: () => Promise<{ labels?: Partial<Record<L, string>>; value: number }[]>;
  /** Label sets always reported (as 0 when absent), e.g. every order status. */
  always?: Partial<Record<L, string>>[];
}): Gauge<L> {
  metricsRegistry.removeSingleMetric(config.name);
  return new Gauge<L>({
    name: config.name,
    help: config.help,
    labelNames: config.labelNames ?? [],
    registers: [metricsRegistry],
    async collect() {
      const rows = await config.read().catch(() => undefined);
      this.reset();
      if (!rows) return;
      for (const labels of config.always ?? []) this.set(labels, 0);
      for (const row of rows) this.set(row.labels ?? {}, row.value);
    },
  });
}

export const httpRequestDuration = new Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Requests served by the app, by method, route (the pattern, not the path) and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const eventsConsumed = new Counter({
  name: 'events_consumed_total',
  help: 'Pub/sub deliveries handled, by topic, event type, consumer and outcome (applied, duplicate, dropped, retry).',
  labelNames: ['topic', 'type', 'consumer', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const outboxPublished = new Counter({
  name: 'outbox_published_total',
  help: 'Events the outbox relay published through the sidecar, by topic.',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});

/**
 * What every service's tables say, read at scrape time: the outbox's backlog
 * and the age of its oldest unsent event (both use the partial index on
 * unsent rows), and the dead letters not yet re-driven, per topic.
 */
export function definePlatformGauges(em: EntityManager): void {
  const unsent = () => platformDb(em.fork()).selectFrom('outbox').where('published_at', 'is', null);
  defineScrapedGauge({
    name: 'outbox_backlog_events',
    help: 'Events written to the outbox and not yet published.',
    read: async () => {
      const row = await unsent()
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirst();
      return [{ value: Number(row?.n ?? 0) }];
    },
  });
  defineScrapedGauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest event still waiting in the outbox (0 when none waits).',
    read: async () => {
      const row = await unsent()
        .select(sql<number | null>`extract(epoch from now() - min(created_at))::float8`.as('age'))
        .executeTakeFirst();
      return [{ value: row?.age ?? 0 }];
    },
  });
  defineScrapedGauge({
    name: 'dead_letters_pending',
    help: 'Dead letters this service received and has not re-driven, by topic.',
    labelNames: ['topic'],
    read: async () =>
      (
        await platformDb(em.fork())
          .selectFrom('dead_letters')
          .select((eb) => ['topic', eb.fn.countAll<string>().as('n')])
          .where('redriven_at', 'is', null)
          .groupBy('topic')
          .execute()
      ).map((r) => ({ labels: { topic: r.topic }, value: Number(r.n) })),
  });
}

/** `GET /metrics`: Prometheus's text format. */
export function metricsRouter(): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.type = metricsRegistry.contentType;
    ctx.body = await metricsRegistry.metrics();
  });
  return router;
}

/**
 * `GET /metrics` on a port of its own, for a public app (the gateway), whose
 * own port anyone can reach: only the scrapers are let to this one.
 */
export function serveMetrics(port: number, host: string): Promise<Server> {
  const app = new Koa().use(metricsRouter().routes());
  return new Promise((resolve, reject) => {
    const server = createServer(app.callback());
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
