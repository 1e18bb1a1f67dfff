import { join } from 'node:path';
import { jest } from '../jest-runner.ts';
import { ROOT, STATE } from '../paths.ts';
import { readEnvFile, runAttached } from '../run-platform.ts';
import { say, step } from '../ui.ts';

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
export async function testCluster(): Promise<number> {
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
      // The Docker daemon of the kind node (the network-fault test runs iptables in a pod's namespace from it).
      DOCKER_HOST: kind.DOCKER_HOST!,
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
