import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { dataDir, diskDataDir, ROOT, RUN } from './paths.ts';
import type { Tools } from './provision.ts';
import { httpOk, isPortOpen, type Supervisor } from './supervisor.ts';
import {
  faultProxy,
  gateway,
  HOST,
  kafka,
  placement,
  postgres,
  redis,
  scheduler,
  sentry,
  serviceList,
  workflowRetention,
  zipkin,
} from './topology.ts';
import { step } from './ui.ts';

/** postgres refuses to run as root: when we are root, it runs as the `postgres` user apt created. */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no postgres user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Who may connect to the local Postgres: over TCP (loopback) with the password
 * in `.shop/keys/postgres-password`; through its socket, without one, only
 * the user that runs it (the socket's folder is theirs, 0700) — how the
 * runner sets that password at every start, on a data directory of any age.
 */
const PG_HBA = ['local all all trust', `host all all ${HOST}/32 scram-sha-256`, ''].join('\n');

async function startPostgres(sup: Supervisor, tools: Tools): Promise<void> {
  const dataDir = join(diskDataDir(), 'postgres');
  const socketDir = join(RUN, 'postgres');
  const user = postgresUser();
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  if (user.uid !== undefined) chownSync(socketDir, user.uid, user.gid!);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    if (user.uid !== undefined) chownSync(dataDir, user.uid, user.gid!);
    await step('initialising the Postgres data directory', async () => {
      execFileSync(join(tools.postgresBin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8'], {
        stdio: 'pipe',
        ...user,
      });
    });
  }
  writeFileSync(join(dataDir, 'pg_hba.conf'), PG_HBA);
  if (user.uid !== undefined) chownSync(join(dataDir, 'pg_hba.conf'), user.uid, user.gid!);
  const bySocket = `postgres://postgres@/postgres?host=${encodeURIComponent(socketDir)}&port=${postgres.port}`;
  await sup.start({
    name: 'postgres',
    command: join(tools.postgresBin, 'postgres'),
    args: [
      '-D',
      dataDir,
      '-p',
      String(postgres.port),
      '-k',
      socketDir,
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      'max_connections=300',
    ],
    ...user,
    stopSignal: 'SIGINT',
    ports: [postgres.port],
    ready: async () => {
      const client = new pg.Client({ connectionString: bySocket });
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  });
  const client = new pg.Client({ connectionString: bySocket });
  await client.connect();
  try {
    const password = new URL(postgres.adminUrl).password;
    await client.query(`alter role postgres password '${decodeURIComponent(password).replace(/'/g, "''")}'`);
  } finally {
    await client.end();
  }
}

/** One database per service, created when missing (also on an external server). */
export async function createDatabases(): Promise<void> {
  const client = new pg.Client({ connectionString: postgres.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database');
    const existing = new Set(rows.map((r: { datname: string }) => r.datname));
    for (const s of serviceList) {
      if (!existing.has(s.database)) await client.query(`create database ${s.database}`);
    }
  } finally {
    await client.end();
  }
}

async function startRedis(sup: Supervisor, tools: Tools): Promise<void> {
  const dir = join(dataDir(), 'redis');
  mkdirSync(dir, { recursive: true });
  await sup.start({
    name: 'redis',
    command: tools.redisServer,
    // Not open to any local process: the password is in `.shop/keys/redis-password` (topology.ts).
    args: [
      '--port',
      String(redis.port),
      '--bind',
      HOST,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--requirepass',
      decodeURIComponent(new URL(redis.url).password),
    ],
    ports: [redis.port],
    ready: () => isPortOpen(redis.port),
  });
}

function kafkaProperties(): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${kafka.controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${kafka.port},CONTROLLER://${HOST}:${kafka.controllerPort}`,
    // Where clients are told to connect: the fault proxy's port under `npm run chaos`.
    `advertised.listeners=PLAINTEXT://${kafka.brokers}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(diskDataDir(), 'kafka')}`,
    // Three partitions per topic: events are keyed by aggregate id, so order holds per aggregate.
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    '',
  ].join('\n');
}

async function startKafka(sup: Supervisor, tools: Tools): Promise<void> {
  const props = join(RUN, 'kafka.properties');
  writeFileSync(props, kafkaProperties());
  const log4j = join(RUN, 'kafka-log4j2.properties');
  writeFileSync(
    log4j,
    [
      'rootLogger.level=WARN',
      'rootLogger.appenderRef.stdout.ref=STDOUT',
      'appender.stdout.type=Console',
      'appender.stdout.name=STDOUT',
      'appender.stdout.layout.type=PatternLayout',
      'appender.stdout.layout.pattern=%d{ISO8601} %p %c{1} %m%n',
      'logger.kafka.name=kafka.server.KafkaServer',
      'logger.kafka.level=INFO',
      '',
    ].join('\n'),
  );
  const java = ['-Xms256m', '-Xmx768m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${tools.kafkaLibs}/*`];
  const logDir = join(diskDataDir(), 'kafka');
  if (!existsSync(join(logDir, 'meta.properties'))) {
    mkdirSync(logDir, { recursive: true });
    await step('formatting Kafka storage (KRaft)', async () => {
      execFileSync(
        'java',
        [...java, 'kafka.tools.StorageTool', 'format', '-t', 'c2hvcC1vbi1kYXByLWxvY2Fs', '-c', props],
        {
          stdio: 'pipe',
        },
      );
    });
  }
  await sup.start({
    name: 'kafka',
    command: 'java',
    args: [...java, 'kafka.Kafka', props],
    ports: [kafka.port, kafka.controllerPort],
    ready: () => isPortOpen(kafka.port),
    readyTimeoutMs: 120_000,
  });
}

/**
 * The spans Zipkin keeps in memory: a few hundred orders' traces at full
 * sampling, filled within minutes at 2 orders a second and then flat (at
 * 200,000 it was still growing past 500 MB after the 20-minute soak).
 */
const ZIPKIN_MAX_SPANS = '50000';

/**
 * Zipkin with in-memory storage (traces live until it stops; the newest
 * ZIPKIN_MAX_SPANS are kept), on loopback only. Its JVM is kept small and
 * quick to start: it idles most of the time.
 */
async function startZipkin(sup: Supervisor, tools: Tools): Promise<void> {
  await sup.start({
    name: 'zipkin',
    command: 'java',
    args: [
      '-Xms32m',
      '-Xmx384m',
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-jar',
      tools.zipkinJar,
      `--armeria.ports[0].port=${zipkin.port}`,
      `--armeria.ports[0].ip=${HOST}`,
      '--armeria.ports[0].protocols=http',
      '--logging.level.root=WARN',
    ],
    env: { STORAGE_TYPE: 'mem', MEM_MAX_SPANS: ZIPKIN_MAX_SPANS },
    ports: [zipkin.port],
    ready: () => httpOk(`${zipkin.url}/health`),
    readyTimeoutMs: 120_000,
  });
}

/**
 * Sentry's own settings (a Dapr Configuration): mTLS on, certificates for a
 * day. Its self-signed root and issuer are made at its first start and kept
 * with the data (a year's validity), so restarts keep the same trust.
 */
const SENTRY_CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
`;

const sentryCredentials = () => join(dataDir(), 'sentry');
/** The root certificate every sidecar and control-plane process trusts (Sentry writes it). */
export const trustAnchorsFile = () => join(sentryCredentials(), 'ca.crt');

/** What placement and scheduler need to take their identity from Sentry and speak mTLS. */
const controlPlaneTls = () => [
  '--tls-enabled',
  '--trust-domain',
  'localhost',
  '--trust-anchors-file',
  trustAnchorsFile(),
  '--sentry-address',
  `${HOST}:${sentry.port}`,
];

async function startDaprControlPlane(sup: Supervisor, tools: Tools): Promise<void> {
  mkdirSync(sentryCredentials(), { recursive: true });
  const configFile = join(RUN, 'sentry.yaml');
  writeFileSync(configFile, SENTRY_CONFIG);
  await sup.start({
    name: 'sentry',
    command: join(tools.daprBin, 'sentry'),
    args: [
      '--config',
      configFile,
      '--issuer-credentials',
      sentryCredentials(),
      '--trust-domain',
      'localhost',
      '--port',
      String(sentry.port),
      '--listen-address',
      HOST,
      '--healthz-port',
      String(sentry.healthzPort),
      '--healthz-listen-address',
      HOST,
      '--metrics-port',
      String(sentry.metricsPort),
      '--log-level',
      'warn',
    ],
    ports: [sentry.port, sentry.healthzPort, sentry.metricsPort],
    ready: async () =>
      existsSync(trustAnchorsFile()) && httpOk(`http://${HOST}:${sentry.healthzPort}/healthz`),
  });
  await Promise.all([
    sup.start({
      name: 'placement',
      command: join(tools.daprBin, 'placement'),
      args: [
        '--port',
        String(placement.port),
        '--listen-address',
        HOST,
        '--healthz-port',
        String(placement.healthzPort),
        '--metrics-port',
        String(placement.metricsPort),
        '--initial-cluster',
        `dapr-placement-0=${HOST}:${placement.raftPort}`,
        ...controlPlaneTls(),
        '--log-level',
        'warn',
      ],
      ports: [placement.port, placement.healthzPort, placement.raftPort, placement.metricsPort],
      ready: () => httpOk(`http://${HOST}:${placement.healthzPort}/healthz`),
    }),
    sup.start({
      name: 'scheduler',
      command: join(tools.daprBin, 'scheduler'),
      args: [
        '--port',
        String(scheduler.port),
        '--listen-address',
        HOST,
        '--healthz-port',
        String(scheduler.healthzPort),
        '--metrics-port',
        String(scheduler.metricsPort),
        '--etcd-data-dir',
        join(dataDir(), 'scheduler'),
        '--etcd-client-port',
        String(scheduler.etcdClientPort),
        '--etcd-initial-cluster',
        `dapr-scheduler-server-0=http://${HOST}:${scheduler.etcdPeerPort}`,
        ...controlPlaneTls(),
        '--identity-directory-write',
        join(RUN, 'scheduler-identity'),
        // The sidecars open their job streams to the address it broadcasts: the fault proxy's under chaos.
        '--override-broadcast-host-port',
        `${HOST}:${faultProxy.port('sidecars→scheduler', scheduler.port)}`,
        '--log-level',
        'warn',
      ],
      ports: [scheduler.port, scheduler.healthzPort, scheduler.etcdClientPort, scheduler.etcdPeerPort],
      ready: () => httpOk(`http://${HOST}:${scheduler.healthzPort}/healthz`),
    }),
  ]);
}

/**
 * Each app's Configuration: config/config.yaml (tracing) with the app's own
 * access control from config/access-control.yaml — as the chart builds them.
 */
function appConfigurations(render: (text: string, file: string) => string): Record<string, string> {
  const dir = join(ROOT, 'components', 'config');
  const base = render(readFileSync(join(dir, 'config.yaml'), 'utf8'), 'config/config.yaml');
  const acl = parse(
    render(readFileSync(join(dir, 'access-control.yaml'), 'utf8'), 'config/access-control.yaml'),
  );
  return Object.fromEntries(
    [...serviceList.map((s) => s.appId), gateway.appId].map((appId) => {
      if (!acl[appId]) throw new Error(`config/access-control.yaml has no entry for ${appId}`);
      const config = parse(base);
      config.metadata.name = `${appId}-config`;
      config.spec.accessControl = acl[appId];
      return [appId, stringify(config)];
    }),
  );
}

/**
 * Renders components/ (with ${NAME} placeholders) into .shop/run for the
 * sidecars: the resources, and one Configuration per app. The resources are
 * the same for every sidecar, unless the fault proxy gives each its own link
 * to Redis: then each gets a directory of its own.
 */
export function renderComponents(): {
  resourcesPathOf: (appId: string) => string;
  configPathOf: (appId: string) => string;
} {
  const values: Record<string, string> = {
    KAFKA_BROKERS: kafka.brokers,
    RUN_DIR: RUN,
    TRACING_SAMPLING_RATE: zipkin.samplingRate,
    ZIPKIN_ENDPOINT: zipkin.spansUrl,
    WORKFLOW_RETENTION_COMPLETED: workflowRetention.completed,
    WORKFLOW_RETENTION_FAILED: workflowRetention.failed,
    WORKFLOW_RETENTION_TERMINATED: workflowRetention.terminated,
    // Self-hosted sidecars and their mTLS identities live in the namespace "default".
    NAMESPACE: 'default',
  };
  const render = (text: string, file: string, own: Record<string, string> = {}) =>
    text.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
      const value = own[name] ?? values[name];
      if (value === undefined) throw new Error(`${file}: unknown placeholder \${${name}}`);
      return value;
    });
  const src = join(ROOT, 'components');
  const redisPassword = decodeURIComponent(new URL(redis.url).password);
  const renderInto = (resourcesPath: string, redisHost: string) => {
    mkdirSync(resourcesPath, { recursive: true });
    for (const file of readdirSync(src).filter((f) => f.endsWith('.yaml'))) {
      let text = render(readFileSync(join(src, file), 'utf8'), file, { REDIS_HOST: redisHost });
      // As the chart does with its Secret: the state store gets Redis's password, never in components/.
      if (redisPassword && /type: state\.redis/.test(text)) {
        const component = parse(text);
        component.spec.metadata.push({ name: 'redisPassword', value: redisPassword });
        text = stringify(component);
      }
      writeFileSync(join(resourcesPath, file), text, { mode: 0o600 });
    }
  };
  const redisHostOf = (appId: string) =>
    new URL(
      serviceList.some((s) => s.appId === appId)
        ? faultProxy.via(`${appId}-dapr→redis`, redis.url)
        : redis.url,
    ).host;
  const dirs = new Map<string, string>();
  for (const appId of [...serviceList.map((s) => s.appId), gateway.appId]) {
    const host = redisHostOf(appId);
    if (dirs.has(host)) continue;
    const dir = join(RUN, dirs.size ? `components-${appId}` : 'components');
    renderInto(dir, host);
    dirs.set(host, dir);
  }
  const configPathOf = (appId: string) => join(RUN, `config-${appId}.yaml`);
  for (const [appId, config] of Object.entries(appConfigurations(render)))
    writeFileSync(configPathOf(appId), config);
  return { resourcesPathOf: (appId) => dirs.get(redisHostOf(appId))!, configPathOf };
}

/** The fault proxy, under `npm run chaos` only: every link of topology's faultProxy, all passing as they are. */
async function startFaultProxy(sup: Supervisor): Promise<void> {
  const links = faultProxy.links();
  await sup.start({
    name: 'fault-proxy',
    command: process.execPath,
    args: ['--disable-warning=ExperimentalWarning', join(ROOT, 'local', 'src', 'fault-proxy-main.ts')],
    env: {
      HOST,
      FAULT_PROXY_LINKS: JSON.stringify(links),
      FAULT_PROXY_CONTROL_PORT: String(faultProxy.controlPort),
    },
    ports: [...links.map((l) => l.port), faultProxy.controlPort],
    ready: () => httpOk(`${faultProxy.controlUrl}/healthz`),
  });
}

/** Postgres, Redis, Kafka (each unless an external one is given), Sentry, placement and scheduler. */
export async function startInfra(sup: Supervisor, tools: Tools): Promise<void> {
  await Promise.all([
    postgres.externalUrl ? undefined : step('starting Postgres', () => startPostgres(sup, tools)),
    redis.externalUrl ? undefined : step('starting Redis', () => startRedis(sup, tools)),
    kafka.externalBrokers
      ? undefined
      : step('starting Kafka (KRaft, single node)', () => startKafka(sup, tools)),
    step('starting Dapr Sentry, placement and scheduler', () => startDaprControlPlane(sup, tools)),
    step('starting Zipkin (traces)', () => startZipkin(sup, tools)),
    faultProxy.enabled ? step('starting the fault proxy', () => startFaultProxy(sup)) : undefined,
  ]);
  await step('creating the service databases', createDatabases);
}
