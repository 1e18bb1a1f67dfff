import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startControlServer } from './control.ts';
import { startInfra } from './infra.ts';
import { LOGS, ROOT, RUN, STATE } from './paths.ts';
import { provision } from './provision.ts';
import { provisionK8sTools } from './provision-k8s.ts';
import { startServices } from './services.ts';
import { Supervisor, stopLeftovers } from './supervisor.ts';
import { control, kafka, placement, postgres, redis, scheduler, serviceList } from './topology.ts';
import { say, step, table } from './ui.ts';

const usage = `usage: shop <command>
  start      provision, start the infrastructure and every service with its sidecar; Ctrl-C stops all
  infra      provision and start only the infrastructure (Postgres, Redis, Kafka, placement, scheduler)
  test       checks, unit tests, the chart against a real kube-apiserver, then the platform with
             integration and end-to-end tests; stops all after
  provision  install what is missing into the cache, start nothing
  stop       stop what a previous run left behind
  reset      stop, then delete local data (.shop/)`;

const external = {
  postgres: Boolean(postgres.externalUrl),
  redis: Boolean(redis.externalUrl),
  kafka: Boolean(kafka.externalBrokers),
};

function printAddresses(withServices: boolean): void {
  const rows = [
    ['part', 'address', 'note'],
    ['postgres', postgres.adminUrl, 'one database per service: shop_<service>'],
    ['redis', redis.url, ''],
    ['kafka', kafka.brokers, 'KRaft, single node'],
    ['placement', `127.0.0.1:${placement.port}`, ''],
    ['scheduler', `127.0.0.1:${scheduler.port}`, ''],
  ];
  if (withServices) {
    for (const s of serviceList) {
      rows.push([
        s.name,
        s.appUrl,
        `sidecar ${s.daprUrl} (grpc ${s.daprGrpcPort}); via Dapr: ${s.daprUrl}/v1.0/invoke/${s.appId}/method/healthz`,
      ]);
    }
  }
  rows.push(['control', control.url, 'GET /processes, POST /processes/<name>/stop|start']);
  console.log(`\n${table(rows)}\n\nlogs: ${LOGS}/<name>.log\n`);
}

/** Runs jest on one suite; returns its pass/fail counts. */
async function jest(
  project: string,
  env: Record<string, string> = {},
): Promise<{ passed: number; failed: number }> {
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
      SHOP_DAPR_CHART: k8s.daprChart,
    });
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    return { passed: 0, failed: 1 };
  }
}

async function withPlatform(
  services: boolean,
  body: (sup: Supervisor) => Promise<number>,
  /** `run`: logs on the console; `test`: logs in files only, and test settings for the services. */
  mode: 'run' | 'test',
): Promise<number> {
  const leftovers = await stopLeftovers();
  if (leftovers.length) say(`stopped leftovers of an earlier run: ${leftovers.join(', ')}`);
  const sup = new Supervisor({ echo: mode === 'run' });
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
      try {
        await step('type check', () =>
          runChecked(process.execPath, [
            join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
            '-p',
            'tsconfig.json',
          ]),
        );
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
      add(await chartChecks());
      const code = await withPlatform(
        true,
        async () => {
          add(await jest('integration'));
          add(await jest('e2e'));
          return totals.failed === 0 ? 0 : 1;
        },
        'test',
      );
      if (code !== 0 && totals.failed === 0) totals.failed += 1;
      say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
      console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
      return totals.failed === 0 ? 0 : 1;
    }
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
