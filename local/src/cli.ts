import { mkdirSync, rmSync } from 'node:fs';
import { chaos } from './commands/chaos.ts';
import { soak } from './commands/soak.ts';
import { start } from './commands/start.ts';
import { runTests } from './commands/test.ts';
import { testCluster } from './commands/test-cluster.ts';
import { RUN, STATE } from './paths.ts';
import { provision } from './provision.ts';
import { provisionOfflineKind } from './provision-k8s.ts';
import { external } from './run-platform.ts';
import { stopLeftovers } from './supervisor.ts';
import { say, step } from './ui.ts';

const usage = `usage: shop <command>
  start      provision, start the infrastructure and every service with its sidecar; Ctrl-C stops all.
             Prints the services' logs and the others' errors (\`start -- --verbose\`: everything;
             \`start -- <name>…\`: only those processes); every process's log is in .shop/logs
  infra      provision and start only the infrastructure (Postgres, Redis, Kafka, placement, scheduler)
  test       checks, unit tests, the chart against a real kube-apiserver, then the platform with
             integration and end-to-end tests; stops all after. \`test -- <pattern>\`: only the test
             files whose path matches (jest's testPathPatterns); the k8s suite only if one matches
  chaos      the platform, then each part frozen, stopped or killed, each network link slowed or
             cut, and the disk filled, in turn with orders and coupon requests in flight; every one
             must end and the invariants hold (\`chaos -- <part>…\`: only those)
  soak       the platform under a steady mixed load (\`soak -- --minutes 60 --rate 2\`), sampled; fails if
             memory, kept rows, workflow keys or backlogs grow after the warm-up, or an order does not end
  provision  install what is missing into the cache, start nothing
  stop       stop what a previous run left behind
  reset      stop, then delete local data (.shop/)`;

/** Each command's own words after it (`npm test -- <pattern>…`, `npm start -- --verbose`). */
const rest = process.argv.slice(3);

async function main(command: string | undefined): Promise<number> {
  mkdirSync(RUN, { recursive: true });
  switch (command) {
    case 'start':
    case 'infra':
      return start(command, rest);
    case 'test':
      return runTests(rest);
    case 'test-cluster':
      return testCluster();
    case 'chaos':
      return chaos(rest);
    case 'soak':
      return soak(rest);
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
