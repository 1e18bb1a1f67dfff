/**
 * Every address of the local platform, in one place: the runner starts what
 * is here, and the end-to-end tests read it. Loopback only. The SHOP_* env
 * variables point the platform at servers that already run instead.
 */
import type { LinkSpec } from './fault-proxy.ts';
import { localSecret } from './local-secrets.ts';

const env = process.env;
const num = (name: string, fallback: number) => Number(env[name] ?? fallback);

export const HOST = '127.0.0.1';

export const postgres = {
  /** An existing server's admin URL; unset: the runner starts its own. */
  externalUrl: env.SHOP_POSTGRES_URL,
  port: num('SHOP_POSTGRES_PORT', 15432),
  /** The server the runner starts takes a password (`.shop/keys/postgres-password`) over TCP. */
  get adminUrl(): string {
    return (
      this.externalUrl ??
      `postgres://postgres:${encodeURIComponent(localSecret('postgres-password'))}@${HOST}:${this.port}/postgres`
    );
  },
  databaseUrl(database: string): string {
    const url = new URL(this.adminUrl);
    url.pathname = `/${database}`;
    return url.toString();
  },
};

export const redis = {
  externalUrl: env.SHOP_REDIS_URL,
  port: num('SHOP_REDIS_PORT', 63799),
  /** The server the runner starts wants a password (`.shop/keys/redis-password`). */
  get url(): string {
    return this.externalUrl ?? `redis://:${localSecret('redis-password')}@${HOST}:${this.port}`;
  },
};

export const kafka = {
  externalBrokers: env.SHOP_KAFKA_BROKERS,
  port: num('SHOP_KAFKA_PORT', 19092),
  controllerPort: num('SHOP_KAFKA_CONTROLLER_PORT', 19093),
  get brokers(): string {
    return this.externalBrokers ?? `${HOST}:${faultProxy.port('kafka', this.port)}`;
  },
};

/**
 * Zipkin (the trace view and the spans' intake, for the sidecars and the
 * services alike). SHOP_TRACE_SAMPLING is the share of requests traced
 * (sidecars' samplingRate; 1 by default, 0 turns tracing off).
 */
export const zipkin = {
  port: num('SHOP_ZIPKIN_PORT', 9411),
  get url(): string {
    return `http://${HOST}:${this.port}`;
  },
  get spansUrl(): string {
    return `${this.url}/api/v2/spans`;
  },
  samplingRate: env.SHOP_TRACE_SAMPLING ?? '1',
};

/**
 * How long an ended workflow's state is kept before Dapr purges it
 * (components/config/config.yaml; Go durations). The test platform keeps a
 * completed one 15 s (local/src/jest-setup/e2e.ts), so that its purge is seen;
 * read when the components are rendered, so a test setup can set them first.
 */
export const workflowRetention = {
  get completed(): string {
    return env.SHOP_WORKFLOW_RETENTION_COMPLETED ?? '1h';
  },
  get failed(): string {
    return env.SHOP_WORKFLOW_RETENTION_FAILED ?? '168h';
  },
  get terminated(): string {
    return env.SHOP_WORKFLOW_RETENTION_TERMINATED ?? '168h';
  },
};

// Every port we listen on is below Linux's ephemeral range (32768-60999), so that
// an outgoing connection can never be holding it when a process starts.
export const placement = { port: 30005, healthzPort: 30081, raftPort: 30201, metricsPort: 30091 };
export const scheduler = {
  port: 30006,
  healthzPort: 30082,
  etcdClientPort: 30379,
  etcdPeerPort: 30380,
  metricsPort: 30092,
};

/**
 * Sentry, the certificate authority: every sidecar, placement and scheduler get
 * their mTLS identity from it, which Dapr's access control policies check.
 */
export const sentry = { port: 30007, healthzPort: 30083, metricsPort: 30093 };

/**
 * The fake data platform that the order service exports completed orders to
 * (services/order/src/export/fake-data-platform.ts), served by the order
 * process on loopback: tests read what it holds and switch its faults.
 */
export const dataPlatform = { port: 3198, url: `http://${HOST}:3198` };

/** The runner's control API (list, stop and start processes), used by tests. */
export const control = {
  port: num('SHOP_CONTROL_PORT', 3599),
  url: `http://${HOST}:${num('SHOP_CONTROL_PORT', 3599)}`,
};

export interface ServiceAddress {
  /** The process name: the service's own for its first replica, `<service>-<n>` for replica n. */
  name: string;
  service: ServiceName;
  appId: string;
  database: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  daprInternalGrpcPort: number;
  daprMetricsPort: number;
  appUrl: string;
  daprUrl: string;
}

const serviceNames = ['user', 'product', 'coupon', 'payment', 'order'] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * Replica n (1-based) of a service: same app id and database, its own app and
 * sidecar ports, 10·(n-1) above the first's, so up to 10 replicas stay clear of
 * the next port block and below the ephemeral range.
 */
function address(name: ServiceName, i: number, replica: number): ServiceAddress {
  const step = 10 * (replica - 1);
  const appPort = 3101 + i + step;
  const daprHttpPort = 3501 + i + step;
  return {
    name: replica === 1 ? name : `${name}-${replica}`,
    service: name,
    appId: name,
    database: `shop_${name}`,
    appPort,
    daprHttpPort,
    daprGrpcPort: 31101 + i + step,
    daprInternalGrpcPort: 31201 + i + step,
    daprMetricsPort: 31301 + i + step,
    appUrl: `http://${HOST}:${appPort}`,
    daprUrl: `http://${HOST}:${daprHttpPort}`,
  };
}

/** The first replica of each service. */
export const services: Record<ServiceName, ServiceAddress> = Object.fromEntries(
  serviceNames.map((name, i) => [name, address(name, i, 1)]),
) as Record<ServiceName, ServiceAddress>;

export const serviceList = Object.values(services);

/**
 * How many replicas of a service the runner starts. Only the coupon service
 * scales here (SHOP_COUPON_REPLICAS, default 1; `npm test` runs 3), so that its
 * quota actors can move between hosts as they do in a cluster. Read when
 * called, so the test runner can set it before it starts anything.
 */
export function replicaCount(name: ServiceName): number {
  if (name !== 'coupon') return 1;
  const count = num('SHOP_COUPON_REPLICAS', 1);
  if (!Number.isInteger(count) || count < 1 || count > 10) {
    throw new Error(
      `SHOP_COUPON_REPLICAS must be a whole number from 1 to 10, not ${env.SHOP_COUPON_REPLICAS}`,
    );
  }
  return count;
}

/**
 * The gateway: the one address a client uses (`npm start` prints it first). It
 * has no database, so it is not among `services`; its sidecar takes the next
 * port block.
 */
export const gateway = {
  name: 'gateway',
  appId: 'gateway',
  appPort: 3100,
  /** Its /metrics (a port of its own: the app's port is public). */
  metricsPort: 3190,
  daprHttpPort: 3506,
  daprGrpcPort: 31106,
  daprInternalGrpcPort: 31206,
  daprMetricsPort: 31306,
  appUrl: `http://${HOST}:3100`,
  daprUrl: `http://${HOST}:3506`,
};

/** Every replica of a service, the first (`services[name]`) first. */
export function replicasOf(name: ServiceName): ServiceAddress[] {
  const i = serviceNames.indexOf(name);
  return Array.from({ length: replicaCount(name) }, (_, r) => address(name, i, r + 1));
}

/**
 * `npm run chaos` puts a fault proxy (local/src/fault-proxy.ts) on each link
 * below: the clients are given the proxy's port, the servers keep their own.
 * Each service to its database, each service's sidecar to Redis (its own
 * state-store link, so one can be cut while the others work; the gateway's
 * has no state store), the services that use Redis
 * themselves, everyone to Kafka (which advertises the proxy's port), the
 * sidecars to the scheduler and to placement, and the order service's
 * workflow stream to its sidecar. Sidecar to sidecar is not among them: name
 * resolution hands out the port a sidecar listens on. Read when called: the
 * chaos command sets SHOP_FAULT_PROXIES before the platform starts.
 */
export const faultProxy = {
  get enabled(): boolean {
    return env.SHOP_FAULT_PROXIES === '1';
  },
  controlPort: 3597,
  get controlUrl(): string {
    return `http://${HOST}:${this.controlPort}`;
  },
  links(): LinkSpec[] {
    const serverAt = (url: string) => {
      const u = new URL(url);
      return { host: u.hostname, port: Number(u.port) };
    };
    const postgresServer = serverAt(postgres.adminUrl);
    const redisServer = serverAt(redis.url);
    const targets = new Map<string, LinkSpec['target']>();
    for (const name of serviceNames)
      for (const r of replicasOf(name)) targets.set(`${r.name}→postgres`, postgresServer);
    for (const appId of serviceNames) targets.set(`${appId}-dapr→redis`, redisServer);
    targets.set('services→redis', redisServer);
    targets.set('kafka', { host: HOST, port: kafka.port });
    targets.set('sidecars→scheduler', { host: HOST, port: scheduler.port });
    targets.set('sidecars→placement', { host: HOST, port: placement.port });
    targets.set('order→order-dapr', { host: HOST, port: services.order.daprGrpcPort });
    return [...targets].map(([name, target], i) => ({ name, port: 3300 + i, target }));
  },
  /** The port a client of `link` connects to: the proxy's when the proxies run, else the server's. */
  port(link: string, serverPort: number): number {
    if (!this.enabled) return serverPort;
    const found = this.links().find((l) => l.name === link);
    if (!found) throw new Error(`no fault-proxy link ${link}`);
    return found.port;
  },
  /** `url` (a client's address of a server) with the proxy's port for `link`. */
  via(link: string, url: string): string {
    if (!this.enabled) return url;
    const u = new URL(url);
    u.port = String(this.port(link, Number(u.port)));
    return u.toString();
  },
};
