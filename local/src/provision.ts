import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CACHE, ROOT } from './paths.ts';
import { step } from './ui.ts';

/** Versions of what the platform provisions; see DESIGN.md "Versions". */
export const versions = {
  dapr: '1.18.2',
  kafka: '4.1.1',
  zipkin: '3.5.1',
  k6: 'v2.0.0',
  helm: 'v3.19.5',
  kubernetes: 'v1.34.3',
  tilt: 'v0.33.0',
  coredns: 'v1.15.0',
  registry: 'v3.0.0',
  kind: 'v0.33.0',
  /** The etcd kind's node runs as kubeadm's etcd:3.6.5-0 (a 3.6 release the Go proxy serves). */
  etcd: 'v3.6.13',
  localPathProvisioner: 'v0.0.30',
  /** The same as k8s/lib.sh's METRICS_SERVER_VERSION. */
  metricsServer: 'v0.8.0',
  kubeScore: 'v1.20.0',
  /** The offline kind node's NetworkPolicy enforcer (k8s/offline/node/kube-router.yaml). */
  kubeRouter: 'v2.1.0',
  /** promtool, of Prometheus 3.16 (its Go module's v0.316.0): the chart's alerting rules' tests. */
  prometheus: 'v0.316.0',
};

export interface Tools {
  postgresBin: string;
  redisServer: string;
  kafkaLibs: string;
  zipkinJar: string;
  daprBin: string;
  k6: string;
  helm: string;
}

/** Runs a command, streaming nothing; on failure the error carries its output tail. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return majors.map((m) => join(base, m, 'bin')).find((d) => existsSync(join(d, 'postgres')));
}

let aptUpdated = false;
export async function aptInstall(packages: string[]): Promise<void> {
  if (!onPath('apt-get')) throw new Error(`install ${packages.join(', ')} (no apt-get on this machine)`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await run('apt-get', ['update', '-q'], { env });
    aptUpdated = true;
  }
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env });
}

async function ensurePostgres(): Promise<string> {
  let dir = postgresBinDir();
  if (!dir) {
    await step('installing PostgreSQL from apt', () => aptInstall(['postgresql']));
    dir = postgresBinDir();
  }
  if (!dir) throw new Error('PostgreSQL is not installed and apt did not provide it');
  return dir;
}

async function ensureRedis(): Promise<string> {
  let bin = onPath('redis-server');
  if (!bin) {
    await step('installing Redis from apt', () => aptInstall(['redis-server']));
    bin = onPath('redis-server');
  }
  if (!bin) throw new Error('redis-server is not installed and apt did not provide it');
  return bin;
}

/** Kafka's jars and a logging backend, resolved by Maven from local/kafka/pom.xml. */
async function ensureKafka(): Promise<string> {
  const libs = join(CACHE, `kafka-${versions.kafka}`, 'libs');
  if (existsSync(join(libs, `kafka-tools-${versions.kafka}.jar`))) return libs;
  if (!onPath('mvn') || !onPath('java')) throw new Error('Kafka needs java and mvn on the PATH');
  await step(`resolving Kafka ${versions.kafka} jars from Maven Central`, () =>
    run('mvn', [
      '-q',
      '-B',
      '-f',
      join(ROOT, 'local', 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${versions.kafka}`,
      `-DoutputDirectory=${libs}`,
    ]),
  );
  return libs;
}

/** Zipkin's server (the UI and the span intake in one executable jar) from Maven Central. */
async function ensureZipkin(): Promise<string> {
  const dir = join(CACHE, `zipkin-${versions.zipkin}`);
  const jar = join(dir, `zipkin-server-${versions.zipkin}-exec.jar`);
  if (existsSync(jar)) return jar;
  if (!onPath('mvn') || !onPath('java')) throw new Error('Zipkin needs java and mvn on the PATH');
  await step(`fetching Zipkin ${versions.zipkin} from Maven Central`, () =>
    run('mvn', [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=io.zipkin:zipkin-server:${versions.zipkin}:jar:exec`,
      `-DoutputDirectory=${dir}`,
    ]),
  );
  return jar;
}

/**
 * daprd, placement, scheduler and sentry: from SHOP_DAPR_BIN_DIR, the PATH or
 * ~/.dapr/bin when present, otherwise built from Go modules with
 * local/daprd (a wrapper module; see its go.mod for why) into the cache.
 * `stablecomponents` is the tag upstream builds with; without it daprd refuses to start.
 */
export async function ensureDapr(names = ['daprd', 'placement', 'scheduler', 'sentry']): Promise<string> {
  const candidates = [
    process.env.SHOP_DAPR_BIN_DIR,
    ...(process.env.PATH ?? '').split(delimiter),
    join(homedir(), '.dapr', 'bin'),
  ].filter((d): d is string => Boolean(d));
  const found = candidates.find((dir) => names.every((n) => existsSync(join(dir, n))));
  if (found) return found;
  const out = join(CACHE, `dapr-${versions.dapr}`);
  if (names.every((n) => existsSync(join(out, n)))) return out;
  if (!onPath('go')) throw new Error('daprd is not installed and there is no Go toolchain to build it');
  mkdirSync(out, { recursive: true });
  await step(`building ${names.join(', ')} ${versions.dapr} from Go modules (first run: 5-10 minutes)`, () =>
    run(
      'go',
      [
        'build',
        '-trimpath',
        `-ldflags=-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${versions.dapr}`,
        '-tags=stablecomponents',
        '-o',
        `${out}/`,
        ...names.map((n) => `github.com/dapr/dapr/cmd/${n}`),
      ],
      { cwd: join(ROOT, 'local', 'gotools', 'dapr'), env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' } },
    ),
  );
  return out;
}

/**
 * k6, helm, tilt, kind, CoreDNS, etcd, the image registry, kind's storage
 * provisioner, metrics-server and kube-score, built from Go modules with their wrapper modules in
 * local/gotools/. `cgo`: the tool links C code (tilt's language server does);
 * `ldflags`: more linker flags (a version stamp); `ownBuild`: never the one on
 * the PATH (Debian's etcd is 3.4; kind's node needs 3.6).
 */
export async function ensureGoTool(
  name:
    | 'k6'
    | 'helm'
    | 'tilt'
    | 'kind'
    | 'coredns'
    | 'etcd'
    | 'registry'
    | 'local-path-provisioner'
    | 'metrics-server'
    | 'kube-score'
    | 'kube-router'
    | 'promtool',
  pkg: string,
  version: string,
  options: { cgo?: boolean; ldflags?: string; ownBuild?: boolean } = {},
): Promise<string> {
  const onPathBin = options.ownBuild ? undefined : onPath(name);
  if (onPathBin) return onPathBin;
  const dir = join(CACHE, `${name}-${version}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  if (!onPath('go')) throw new Error(`${name} is not installed and there is no Go toolchain to build it`);
  await step(`building ${name} ${version} from Go modules`, () =>
    run('go', ['build', '-trimpath', `-ldflags=-s -w ${options.ldflags ?? ''}`.trim(), '-o', bin, pkg], {
      cwd: join(ROOT, 'local', 'gotools', name),
      env: { CGO_ENABLED: options.cgo ? '1' : '0', GOFLAGS: '-mod=mod' },
    }),
  );
  return bin;
}

/**
 * Everything the platform runs, installed into the cache when missing and
 * reused afterwards. The independent parts run side by side.
 */
export async function provision(options: {
  needExternal: { postgres: boolean; redis: boolean; kafka: boolean };
}): Promise<Tools> {
  mkdirSync(CACHE, { recursive: true });
  // apt takes a lock: the two apt installs go one after the other.
  const aptChain = (async () => {
    const postgresBin = options.needExternal.postgres ? '' : await ensurePostgres();
    const redisServer = options.needExternal.redis ? '' : await ensureRedis();
    return { postgresBin, redisServer };
  })();
  // Maven takes a lock on its local repository: one after the other.
  const mavenChain = (async () => {
    const kafkaLibs = options.needExternal.kafka ? '' : await ensureKafka();
    return { kafkaLibs, zipkinJar: await ensureZipkin() };
  })();
  // Go builds share two cores: one after the other.
  const goChain = (async () => {
    const daprBin = await ensureDapr();
    const k6 = await ensureGoTool('k6', 'go.k6.io/k6/v2', versions.k6);
    const helm = await ensureGoTool('helm', 'helm.sh/helm/v3/cmd/helm', versions.helm);
    return { daprBin, k6, helm };
  })();
  // Let every chain finish (an apt or a build killed half-way leaves a mess), then report.
  const [apt, maven, go] = await Promise.allSettled([aptChain, mavenChain, goChain]);
  for (const r of [apt, maven, go]) if (r.status === 'rejected') throw r.reason;
  return {
    ...(apt as PromiseFulfilledResult<Awaited<typeof aptChain>>).value,
    ...(maven as PromiseFulfilledResult<Awaited<typeof mavenChain>>).value,
    ...(go as PromiseFulfilledResult<Awaited<typeof goChain>>).value,
  };
}
