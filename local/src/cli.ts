import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { consoleFilter, consoleOptions } from './console-log.ts';
import { startControlServer } from './control.ts';
import { startInfra } from './infra.ts';
import { LOGS, ROOT, RUN, STATE } from './paths.ts';
import { provision } from './provision.ts';
import { ensureChromium } from './provision-chromium.ts';
import { provisionK8sTools, provisionOfflineKind } from './provision-k8s.ts';
import { ensureSchemathesis } from './provision-schemathesis.ts';
import { startServices } from './services.ts';
import { Supervisor, stopLeftovers } from './supervisor.ts';
import {
  control,
  gateway,
  kafka,
  placement,
  postgres,
  redis,
  replicasOf,
  scheduler,
  sentry,
  serviceList,
  zipkin,
} from './topology.ts';
import { say, step, table } from './ui.ts';

const usage = `usage: shop <command>
  start      provision, start the infrastructure and every service with its sidecar; Ctrl-C stops all.
             Prints the services' logs and the others' errors (\`start -- --verbose\`: everything;
             \`start -- <name>…\`: only those processes); every process's log is in .shop/logs
  infra      provision and start only the infrastructure (Postgres, Redis, Kafka, placement, scheduler)
  test       checks, unit tests, the chart against a real kube-apiserver, then the platform with
             integration and end-to-end tests; stops all after. \`test -- <pattern>\`: only the test
             files whose path matches (jest's testPathPatterns); the k8s suite only if one matches
  chaos      the platform, then each part frozen, stopped or killed in turn with orders and coupon
             requests in flight; every one must end and the invariants hold (\`chaos -- <part>…\`: only those)
  provision  install what is missing into the cache, start nothing
  stop       stop what a previous run left behind
  reset      stop, then delete local data (.shop/)`;

/** \`npm test -- <pattern>…\`: run only the test files whose path matches. */
const testFilter = process.argv.slice(3);

const external = {
  postgres: Boolean(postgres.externalUrl),
  redis: Boolean(redis.externalUrl),
  kafka: Boolean(kafka.externalBrokers),
};

const withoutPassword = (url: string) => {
  const shown = new URL(url);
  shown.password = '';
  return shown.toString();
};

function printAddresses(withServices: boolean): void {
  const rows = [
    ['part', 'address', 'note'],
    [
      'postgres',
      withoutPassword(postgres.adminUrl),
      'one database per service: shop_<service>; password: .shop/keys',
    ],
    ['redis', withoutPassword(redis.url), 'password: .shop/keys'],
    ['kafka', kafka.brokers, 'KRaft, single node'],
    ['placement', `127.0.0.1:${placement.port}`, ''],
    ['scheduler', `127.0.0.1:${scheduler.port}`, ''],
    ['sentry', `127.0.0.1:${sentry.port}`, 'mTLS certificates of every sidecar (access control checks them)'],
    [
      'zipkin',
      `${zipkin.url}/zipkin/`,
      `traces (sampling ${zipkin.samplingRate}): find an order by its log line's traceId, or by service and span name`,
    ],
  ];
  if (withServices) {
    rows.push([
      'gateway',
      gateway.appUrl,
      'THE address to use: sign in (POST /auth/login), then send Authorization: Bearer <token>',
    ]);
    for (const s of serviceList.flatMap((first) => replicasOf(first.service))) {
      rows.push([
        s.name,
        s.appUrl,
        `sidecar ${s.daprUrl} (grpc ${s.daprGrpcPort}); metrics ${s.appUrl}/metrics, the sidecar's http://127.0.0.1:${s.daprMetricsPort}/metrics`,
      ]);
    }
  }
  rows.push([
    'control',
    control.url,
    'GET /processes, POST /processes/<name>/stop|start; x-control-token: .shop/keys/control-token',
  ]);
  console.log(`\n${table(rows)}\n\nlogs: ${LOGS}/<name>.log\n`);
  if (withServices) {
    say(`the storefront page: ${gateway.appUrl}/ (sign in as a demo user; see docs/storefront.md)`);
    say(
      `use the gateway: ${gateway.appUrl} (the services' ports and sidecars, for debugging, want the tokens in .shop/keys: docs/security.md)`,
    );
  }
}

/** Runs jest on one suite; returns its pass/fail counts. */
async function jest(
  project: string,
  env: Record<string, string> = {},
): Promise<{ passed: number; failed: number }> {
  const filter = testFilter.length ? ['--passWithNoTests', '--testPathPatterns', ...testFilter] : [];
  const results = join(STATE, 'run', `jest-${project}.json`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--selectProjects',
        project,
        '--runInBand',
        '--json',
        '--outputFile',
        results,
        ...filter,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: {
          ...process.env,
          SHOP_TEST_POSTGRES_URL: postgres.adminUrl,
          SHOP_TEST_REDIS_URL: redis.url,
          ...env,
        },
      },
    );
    child.once('exit', (c) => resolve(c ?? 1));
  });
  try {
    const summary = JSON.parse(readFileSync(results, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTestSuites: number;
      numFailedTestSuites: number;
    };
    return {
      passed: summary.numPassedTests,
      failed: summary.numFailedTests + (code !== 0 && summary.numFailedTests === 0 ? 1 : 0),
    };
  } catch {
    return { passed: 0, failed: 1 };
  }
}

function runChecked(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed`))));
  });
}

/** The k8s suite: charts/shop, the k8s/ scripts and the Tiltfile against real helm, kube-apiserver and tilt. */
async function chartChecks(): Promise<{ passed: number; failed: number }> {
  try {
    const tools = await step('provisioning (cached after the first run)', () =>
      provision({ needExternal: external }),
    );
    const k8s = await step('provisioning the Kubernetes checks (cached after the first run)', () =>
      provisionK8sTools(),
    );
    return await jest('k8s', {
      SHOP_HELM: tools.helm,
      SHOP_KUBE_BIN: k8s.kubeBin,
      SHOP_KUBECTL: k8s.kubectl,
      SHOP_TILT: k8s.tilt,
      SHOP_KUBE_SCORE: k8s.kubeScore,
      SHOP_DAPR_CHART: k8s.daprChart,
    });
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    return { passed: 0, failed: 1 };
  }
}

/** Runs a command with the console attached; resolves with its exit code. */
function runAttached(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** KEY=VALUE lines (what k8s/offline/prepare.sh writes) as an object. */
const readEnvFile = (file: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );

/**
 * `npm run test:cluster`: a kind cluster made by k8s/kind/up.sh, the script a
 * user runs, with Dapr from its chart's default values and charts/shop through
 * k8s/install.sh; then the cluster suite, then `tilt ci` on the same cluster
 * (after the release is uninstalled: both would not fit on two cores), and the
 * cluster deleted whatever happened. This machine cannot pull kind's node image
 * or the official images: k8s/offline/prepare.sh builds them from upstream
 * parts first, and up.sh is given only the node image, the folders of Dapr's and
 * metrics-server's charts, and the suite's values (k8s/test/cluster-values.yaml).
 */
async function testCluster(): Promise<number> {
  const started = performance.now();
  const prepare = join(ROOT, 'k8s', 'offline', 'prepare.sh');
  const totals = { passed: 0, failed: 0 };
  const count = (ok: boolean) => (ok ? totals.passed++ : totals.failed++);
  let kindEnv: NodeJS.ProcessEnv | undefined;
  try {
    const prepared = await runAttached('bash', [prepare, 'up']);
    count(prepared === 0);
    if (prepared !== 0) return 1;
    const offline = join(STATE, 'k8s-offline');
    const tools = readEnvFile(join(offline, 'tools.env'));
    const kind = readEnvFile(join(offline, 'kind.env'));
    kindEnv = {
      ...process.env,
      ...kind,
      KUBECONFIG: join(offline, 'kubeconfig'),
      // This machine's builds need the host's network and its proxy's CA; users' do not.
      SHOP_BUILD_FLAGS: '--network host --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt',
    };
    const up = await runAttached(
      'bash',
      [
        join(ROOT, 'k8s', 'kind', 'up.sh'),
        '--dapr-chart',
        kind.DAPR_CHART!,
        '--metrics-server-chart',
        kind.METRICS_SERVER_CHART!,
        // Its chart is in Dapr's Helm repository only, and its image cannot be built here (docs/kubernetes.md).
        '--no-dashboard',
        '--values',
        join(ROOT, 'k8s', 'test', 'cluster-values.yaml'),
      ],
      kindEnv,
    );
    count(up === 0);
    if (up !== 0) return 1;
    const suite = await jest('cluster', {
      KUBECONFIG: kindEnv.KUBECONFIG!,
      SHOP_KUBECTL: join(tools.KUBE_BIN!, 'kubectl'),
      SHOP_HELM: tools.HELM!,
      KUBECTL: join(tools.KUBE_BIN!, 'kubectl'),
    });
    totals.passed += suite.passed;
    totals.failed += suite.failed;
    await runAttached(tools.HELM!, ['uninstall', 'shop', '-n', 'shop', '--wait'], kindEnv);
    const tilt = await step('tilt ci on the same kind cluster', () =>
      runAttached(tools.TILT!, ['ci', '--timeout', '20m'], {
        ...kindEnv,
        HOME: offline,
        SHOP_BUILD_CA: '/etc/ssl/certs/ca-certificates.crt',
        SHOP_BUILD_NETWORK: 'host',
        // The same halved CPU requests as the suite's install: two cores.
        SHOP_TILT_VALUES: join(ROOT, 'k8s', 'test', 'cluster-values.yaml'),
      }),
    );
    count(tilt === 0);
  } finally {
    if (kindEnv) await runAttached('bash', [join(ROOT, 'k8s', 'kind', 'down.sh')], kindEnv);
    await runAttached('bash', [prepare, 'down']);
    say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
    console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
  }
  return totals.failed === 0 ? 0 : 1;
}

async function withPlatform(
  services: boolean,
  body: (sup: Supervisor) => Promise<number>,
  /** `run`: logs on the console; `test`: logs in files only, and test settings for the services. */
  mode: 'run' | 'test',
): Promise<number> {
  const leftovers = await stopLeftovers();
  if (leftovers.length) say(`stopped leftovers of an earlier run: ${leftovers.join(', ')}`);
  const sup = new Supervisor({
    echo:
      mode === 'run' ? consoleFilter(consoleOptions(process.argv.slice(3), process.stdout.isTTY)) : undefined,
  });
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= step('stopping everything', () => sup.stopAll());
    return stopping;
  };
  const onSignal = () => {
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const tools = await step('provisioning (cached after the first run)', () =>
      provision({ needExternal: external }),
    );
    await startInfra(sup, tools);
    if (services) await startServices(sup, tools, { test: mode === 'test' });
    await startControlServer(sup);
    return await body(sup);
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    return 1;
  } finally {
    await stopAll();
  }
}

async function main(command: string | undefined): Promise<number> {
  mkdirSync(RUN, { recursive: true });
  switch (command) {
    case 'start':
    case 'infra':
      return withPlatform(
        command === 'start',
        async () => {
          printAddresses(command === 'start');
          say('ready. Ctrl-C stops everything.');
          await new Promise(() => undefined);
          return 0;
        },
        'run',
      );
    case 'test': {
      const started = performance.now();
      // Coupon runs as three replicas under test, so that its quota actors are
      // placed across hosts and move when one dies (local/e2e/coupon-replicas).
      process.env.SHOP_COUPON_REPLICAS ??= '3';
      try {
        await step('type check', async () => {
          for (const project of ['tsconfig.json', join('services', 'storefront', 'tsconfig.json')]) {
            await runChecked(process.execPath, [
              join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
              '-p',
              project,
            ]);
          }
        });
        await step('lint and format check', () =>
          runChecked(join(ROOT, 'node_modules', '.bin', 'biome'), ['check', '.']),
        );
      } catch {
        // The checks count as one failed test, so the closing line says it.
        console.log('tests: 0 passed, 1 failed');
        return 1;
      }
      const totals = { passed: 0, failed: 0 };
      const add = (r: { passed: number; failed: number }) => {
        totals.passed += r.passed;
        totals.failed += r.failed;
      };
      add(await jest('unit'));
      // The fuzzer of the contract tests (local/e2e/contract): provisioned only when they run;
      // without it they fail, saying so.
      const e2eTools: Record<string, string> = {};
      if (!testFilter.length || testFilter.some((f) => /contract/.test(f))) {
        await step('provisioning schemathesis (cached after the first run)', ensureSchemathesis).then(
          (bin) => {
            e2eTools.SHOP_SCHEMATHESIS = bin;
          },
          (err: Error) => console.error(`\n${err.message}`),
        );
      }
      // The browser of the storefront's tests (local/e2e/storefront): the same way.
      if (!testFilter.length || testFilter.some((f) => /storefront|e2e/.test(f))) {
        await step('provisioning chromium (cached after the first run)', ensureChromium).then(
          (bin) => {
            e2eTools.SHOP_CHROMIUM = bin;
          },
          (err: Error) => console.error(`\n${err.message}`),
        );
      }
      if (!testFilter.length || testFilter.some((f) => /k8s|chart/.test(f))) add(await chartChecks());
      const code = await withPlatform(
        true,
        async () => {
          add(await jest('integration'));
          add(await jest('e2e', e2eTools));
          return totals.failed === 0 ? 0 : 1;
        },
        'test',
      );
      if (code !== 0 && totals.failed === 0) totals.failed += 1;
      say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
      console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
      return totals.failed === 0 ? 0 : 1;
    }
    case 'k8s-provision': {
      // For k8s/offline/prepare.sh: provisions, then prints the tools as shell assignments on stdout.
      const platform = await step('provisioning the platform (cached after the first run)', () =>
        provision({ needExternal: { postgres: true, redis: true, kafka: false } }),
      );
      const tools = await step('provisioning the offline kind route (cached after the first run)', () =>
        provisionOfflineKind(platform),
      );
      for (const [key, value] of Object.entries(tools)) {
        process.stdout.write(`${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}=${value}\n`);
      }
      return 0;
    }
    case 'test-cluster':
      return testCluster();
    case 'chaos':
      return withPlatform(
        true,
        async (sup) => {
          const started = performance.now();
          // The suite is the test kit's: loaded only when asked for.
          const { runChaos } = await import('@shop/testkit/chaos');
          const rows = await runChaos(sup, process.argv.slice(3));
          const failed = rows.filter((r) => r.violations.length > 0);
          say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
          console.log(`chaos: ${rows.length - failed.length} parts passed, ${failed.length} failed`);
          return failed.length === 0 && rows.length > 0 ? 0 : 1;
        },
        'test',
      );
    case 'provision':
      await step('provisioning', () => provision({ needExternal: external }));
      return 0;
    case 'stop': {
      const stopped = await stopLeftovers();
      say(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running');
      return 0;
    }
    case 'reset':
      await stopLeftovers();
      rmSync(STATE, { recursive: true, force: true });
      say(`deleted ${STATE}`);
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

process.exit(await main(process.argv[2]));
