import { z } from 'zod';

/** Settings every service has. Only `loadConfig` reads the environment. */
export const baseConfigSchema = z.object({
  APP_ID: z.string().min(1),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: z.coerce.number().int().positive().default(3500),
  DAPR_GRPC_PORT: z.coerce.number().int().positive().default(50001),
  /**
   * The token the sidecar demands on its API (daprd's DAPR_API_TOKEN). Empty:
   * none (a sidecar started without one). The workflow SDK reads it itself.
   */
  DAPR_API_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /**
   * The token the sidecar sends to the app (daprd's APP_API_TOKEN): when set,
   * the app answers only requests that carry it (probes and metrics aside).
   */
  APP_API_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  PUBSUB_NAME: z.string().default('pubsub'),
  /** `npm start` applies migrations at start-up; in Kubernetes a Job does it and this stays false. */
  MIGRATE_ON_START: z.stringbool().default(false),
  /** Loads the service's demo data (idempotent); `npm start` sets it. */
  SEED_DEMO_DATA: z.stringbool().default(false),
  /**
   * Connections per process (MikroORM's pg pool, none kept when idle).
   * Transactions are short (the outbox relay and the payment start no longer
   * hold one across a network call), so a connection is busy for a few
   * queries: at ~2 ms each, 8 connections serve ~4000 transactions/s, more
   * than one Node process on one core produces; the relay takes one at a time
   * and each event delivery one. The bound is the server's max_connections:
   * the chart gives each service its own Postgres (100) and coupon scales to
   * 4 pods (32 plus its migration Job); locally 5 services share one server
   * (300) with the tests' pools. On a shared external server keep
   * pods × DATABASE_POOL_MAX under its max_connections (or use PgBouncer).
   */
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(50).default(8),
  /**
   * Where spans go: a Zipkin-format intake (Zipkin, Jaeger, Tempo, an
   * OpenTelemetry collector), e.g. `http://127.0.0.1:9411/api/v2/spans`.
   * Empty: no span is exported (trace ids still reach the logs and the calls).
   */
  TRACING_ZIPKIN_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  /** Share of the traces that start in this service that are recorded; incoming ones keep the sidecar's decision. */
  TRACING_SAMPLING_RATE: z.coerce.number().min(0).max(1).default(1),
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(500),
  /** Outbox rows one relay pass claims and publishes (in bulk, one call per topic and round). */
  OUTBOX_BATCH_SIZE: z.coerce.number().int().positive().max(1000).default(100),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * How often the retention sweep (retention/retention.ts) deletes what is past
   * its retention. The RETENTION_*_HOURS below take fractions (the soak keeps minutes).
   */
  RETENTION_SWEEP_MS: z.coerce.number().int().positive().default(600_000),
  /**
   * How long a consumer remembers an event it handled (its inbox entry): a
   * redelivery after that is applied again. Longer than Kafka keeps an event
   * (7 days by default), so that anything Kafka can still redeliver is known.
   */
  RETENTION_INBOX_HOURS: z.coerce.number().positive().default(336),
  /** How long a published event stays in the outbox (for an operator who asks what was sent). */
  RETENTION_OUTBOX_HOURS: z.coerce.number().positive().default(168),
  /** How long a re-driven dead letter is kept; one not re-driven is kept until it is. */
  RETENTION_DEAD_LETTERS_HOURS: z.coerce.number().positive().default(720),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {}

/**
 * Validates the environment once, at start-up. On failure the message names
 * every variable that is missing or wrong, so the process can exit with it.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return env[name] === undefined ? `  ${name}: missing (${issue.message})` : `  ${name}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** Loads the config, or says what is wrong with it and exits: a service cannot start on a bad one. */
export function loadOrExit<S extends z.ZodObject>(schema: S): z.infer<S> {
  try {
    return loadConfig(schema);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
