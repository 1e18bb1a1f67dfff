import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ROOT } from './paths.ts';
import { aptInstall, ensureDapr, ensureGoTool, onPath, run, versions } from './provision.ts';
import { step } from './ui.ts';

export interface K8sTools {
  /** Folder with kube-apiserver and kubectl (and, when asked, the node binaries). */
  kubeBin: string;
  kubectl: string;
  tilt: string;
  kubeScore: string;
  promtool: string;
  /** Dapr's own Helm chart for the project's Dapr version (CRDs in crds/). */
  daprChart: string;
}

const kubeWrapper = join(ROOT, 'local', 'gotools', 'kubernetes');

/**
 * Kubernetes binaries of the project's version, built from Go modules with
 * local/gotools/kubernetes (see its go.mod for why a wrapper) into the cache.
 * The version is stamped in, else they report v0.0.0-master and kubectl
 * cannot parse it.
 */
export async function ensureKubeBinaries(names: string[]): Promise<string> {
  const out = join(CACHE, `kubernetes-${versions.kubernetes}`);
  const missing = names.filter((n) => !existsSync(join(out, n)));
  if (missing.length === 0) return out;
  if (!onPath('go')) throw new Error('the Kubernetes binaries need a Go toolchain to build them');
  mkdirSync(out, { recursive: true });
  const [major, minor] = versions.kubernetes.slice(1).split('.');
  const stamp = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${versions.kubernetes}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
  ]);
  await step(
    `building ${missing.join(', ')} ${versions.kubernetes} from Go modules (first run: 5-10 minutes)`,
    () =>
      run(
        'go',
        [
          'build',
          '-trimpath',
          `-ldflags=-s -w ${stamp.join(' ')}`,
          '-o',
          `${out}/`,
          ...missing.map((n) => `k8s.io/kubernetes/cmd/${n}`),
        ],
        { cwd: kubeWrapper, env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' } },
      ),
  );
  return out;
}

/** A Helm chart shipped inside a Go module (Dapr's, metrics-server's): its folder in the module cache. */
function chartInModule(wrapper: string, module: string, chart: string): string {
  const json = execFileSync('go', ['mod', 'download', '-json', module], {
    cwd: join(ROOT, 'local', 'gotools', wrapper),
    encoding: 'utf8',
  });
  const dir = join((JSON.parse(json) as { Dir: string }).Dir, 'charts', chart);
  if (!existsSync(join(dir, 'Chart.yaml'))) throw new Error(`the ${chart} chart is not at ${dir}`);
  return dir;
}
const daprChart = () => chartInModule('dapr', `github.com/dapr/dapr@v${versions.dapr}`, 'dapr');

/**
 * What the chart checks of `npm test` need besides helm: a kube-apiserver
 * with etcd to validate against, kubectl, Tilt, shellcheck, kube-score, promtool
 * (the alerting rules' tests) and Dapr's chart.
 */
export async function provisionK8sTools(): Promise<K8sTools> {
  const aptMissing = [
    ['etcd', 'etcd-server'],
    ['shellcheck', 'shellcheck'],
    ['openssl', 'openssl'],
    ['curl', 'curl'],
  ].filter(([bin]) => !onPath(bin!));
  if (aptMissing.length) {
    const packages = aptMissing.map(([, pkg]) => pkg!);
    await step(`installing ${packages.join(', ')} from apt`, () => aptInstall(packages));
  }
  // Go builds share two cores: one after the other.
  const kubeBin = await ensureKubeBinaries(['kube-apiserver', 'kubectl']);
  // Tilt links tree-sitter (C) for its language server; without the version stamp it
  // takes itself for a development build and looks for its web UI's sources.
  const tilt = await ensureGoTool('tilt', 'github.com/tilt-dev/tilt/cmd/tilt', versions.tilt, {
    cgo: true,
    ldflags: `-X main.version=${versions.tilt.slice(1)}`,
  });
  const kubeScore = await ensureGoTool(
    'kube-score',
    'github.com/zegl/kube-score/cmd/kube-score',
    versions.kubeScore,
  );
  const promtool = await ensureGoTool(
    'promtool',
    'github.com/prometheus/prometheus/cmd/promtool',
    versions.prometheus,
  );
  return { kubeBin, kubectl: join(kubeBin, 'kubectl'), tilt, kubeScore, promtool, daprChart: daprChart() };
}

export interface OfflineKindTools extends K8sTools {
  helm: string;
  /** Folder with daprd, placement, scheduler, operator, injector and sentry. */
  daprBin: string;
  kafkaLibs: string;
  k6: string;
  kind: string;
  /** The Kubernetes version of the node binaries in kubeBin (kubeadm, kubelet...). */
  kubeVersion: string;
  etcd: string;
  coredns: string;
  localPathProvisioner: string;
  metricsServer: string;
  /** metrics-server's Helm chart, from its Go module. */
  metricsServerChart: string;
  registryBin: string;
  /** kube-router, the node's NetworkPolicy enforcer (its firewall only). */
  kubeRouter: string;
}

/**
 * What k8s/offline/prepare.sh needs to give `k8s/kind/up.sh` what a laptop
 * pulls, into the cache when missing: Debian's dockerd, debootstrap and jq;
 * kind, the Kubernetes binaries of a node (kubeadm, kubelet, the control
 * plane), etcd 3.6, CoreDNS, kind's storage provisioner, metrics-server, an
 * image registry, kube-router and Dapr's control plane from Go modules; plus what the platform already
 * provisions (helm, k6, Kafka's jars).
 */
export async function provisionOfflineKind(platform: {
  helm: string;
  k6: string;
  kafkaLibs: string;
}): Promise<OfflineKindTools> {
  const aptMissing = [
    ['runc', 'runc'],
    ['debootstrap', 'debootstrap'],
    ['dockerd', 'docker.io'],
    ['jq', 'jq'],
  ].filter(([bin]) => !onPath(bin!));
  if (aptMissing.length) {
    const packages = aptMissing.map(([, pkg]) => pkg!);
    await step(`installing ${packages.join(', ')} from apt`, () => aptInstall(packages));
  }
  // etcd, shellcheck, openssl and curl from apt too.
  const base = await provisionK8sTools();
  await ensureKubeBinaries([
    'kube-apiserver',
    'kubectl',
    'kubeadm',
    'kube-controller-manager',
    'kube-scheduler',
    'kubelet',
    'kube-proxy',
  ]);
  const kind = await ensureGoTool('kind', 'sigs.k8s.io/kind', versions.kind);
  const etcd = await ensureGoTool('etcd', '.', versions.etcd, { ownBuild: true });
  const coredns = await ensureGoTool('coredns', 'github.com/coredns/coredns', versions.coredns);
  const localPathProvisioner = await ensureGoTool(
    'local-path-provisioner',
    'github.com/rancher/local-path-provisioner',
    versions.localPathProvisioner,
  );
  const metricsServer = await ensureGoTool(
    'metrics-server',
    'sigs.k8s.io/metrics-server/cmd/metrics-server',
    versions.metricsServer,
  );
  const registryBin = await ensureGoTool(
    'registry',
    'github.com/distribution/distribution/v3/cmd/registry',
    versions.registry,
  );
  const kubeRouter = await ensureGoTool(
    'kube-router',
    'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router',
    versions.kubeRouter,
    { ldflags: `-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${versions.kubeRouter}` },
  );
  const daprBin = await ensureDapr(['daprd', 'placement', 'scheduler', 'operator', 'injector', 'sentry']);
  return {
    ...base,
    metricsServer,
    metricsServerChart: chartInModule(
      'metrics-server',
      `sigs.k8s.io/metrics-server@${versions.metricsServer}`,
      'metrics-server',
    ),
    ...platform,
    daprBin,
    kind,
    kubeVersion: versions.kubernetes,
    etcd,
    coredns,
    localPathProvisioner,
    registryBin,
    kubeRouter,
  };
}
