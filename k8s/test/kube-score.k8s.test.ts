/**
 * charts/shop as kube-score (built from its Go module) grades it: no CRITICAL
 * finding left unless an argument below keeps it, for the chart as a
 * production install renders it (your own Postgres, Redis and Kafka:
 * k8s/external-infrastructure.yaml) and as a dev cluster does (the bundled
 * servers). `npm test` provisions the tools and passes them in SHOP_* variables.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { chartTemplateArgs, provisionedTool } from '@shop/testkit';

const ROOT = join(import.meta.dirname, '..', '..');
const HELM = provisionedTool('SHOP_HELM');
const KUBE_SCORE = provisionedTool('SHOP_KUBE_SCORE');

function run(command: string, args: string[], input?: string): string {
  const r = spawnSync(command, args, { cwd: ROOT, input, encoding: 'utf8', maxBuffer: 64 << 20 });
  // kube-score exits 1 when it finds a CRITICAL: its JSON is what counts.
  if (r.status !== 0 && !(command === KUBE_SCORE && r.status === 1 && r.stdout.startsWith('[')))
    throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

const render = (values: string[]) =>
  run(HELM, chartTemplateArgs(values.flatMap((f) => ['-f', join(ROOT, f)])));

interface Finding {
  check: string;
  object: string;
}

const CRITICAL = 1;

/** Every CRITICAL finding of kube-score on these manifests, as `check` on `Kind/name`. */
function criticals(manifests: string): Finding[] {
  const objects = JSON.parse(run(KUBE_SCORE, ['score', '-', '--output-format', 'json'], manifests)) as {
    type_meta: { kind: string };
    object_meta: { name: string };
    checks: { check: { id: string }; grade: number; skipped: boolean }[];
  }[];
  return objects.flatMap((o) =>
    o.checks
      .filter((c) => c.grade === CRITICAL && !c.skipped)
      .map((c) => ({ check: c.check.id, object: `${o.type_meta.kind}/${o.object_meta.name}` })),
  );
}

/**
 * The CRITICAL findings the chart keeps, each with its argument and what it
 * may apply to. Anything else kube-score grades CRITICAL fails the test.
 */
const kept: { check: string; applies: (object: string) => boolean; why: string }[] = [
  {
    check: 'container-image-pull-policy',
    applies: () => true,
    why:
      "The services' images are tagged by their content (k8s/lib.sh image_tag) and the others by a pinned " +
      'version, so a tag never changes what it names: IfNotPresent is exact and asks no registry, and ' +
      'images loaded into kind or minikube have no registry to ask.',
  },
  ...['container-security-context-user-group-id', 'container-security-context-readonlyrootfilesystem'].map(
    (check) => ({
      check,
      applies: (object: string) => /^StatefulSet\/(postgres-[a-z]+|redis|kafka)$/.test(object),
      why:
        'The bundled Postgres, Redis and Kafka (postgres.bundled, redis.bundled, kafka.bundled) are for dev ' +
        "clusters: they run as their official images' own users (999, 1000) and write where those images " +
        'write. A production install uses your servers (bundled=false, k8s/external-infrastructure.yaml), ' +
        'which leaves no such finding.',
    }),
  ),
];

const unargued = (found: Finding[]) =>
  found.filter((f) => !kept.some((k) => k.check === f.check && k.applies(f.object)));

describe('kube-score on charts/shop', () => {
  test('When the chart is installed against your own Postgres, Redis and Kafka, then kube-score finds no CRITICAL that is not argued', () => {
    const found = criticals(render(['k8s/external-infrastructure.yaml']));
    expect(unargued(found)).toEqual([]);
    // The production install has no bundled server, so their arguments keep nothing there.
    expect(found.filter((f) => f.check.startsWith('container-security-context'))).toEqual([]);
  });

  test('When the chart runs its own servers (dev clusters), then the only further findings are the bundled servers’ own users and root filesystems', () => {
    expect(unargued(criticals(render([])))).toEqual([]);
    expect(unargued(criticals(render(['k8s/kind/values.yaml', 'k8s/test/cluster-values.yaml'])))).toEqual([]);
  });

  test('When a workload lacks what the chart gives every container, then kube-score grades it CRITICAL (the check can fail)', () => {
    const bare = `apiVersion: apps/v1
kind: Deployment
metadata: { name: bare, namespace: shop }
spec:
  selector: { matchLabels: { app: bare } }
  template:
    metadata: { labels: { app: bare } }
    spec:
      containers:
        - { name: app, image: "example/bare:1" }
`;
    expect(unargued(criticals(bare)).map((f) => f.check)).toEqual(
      expect.arrayContaining([
        'container-resources',
        'container-ephemeral-storage-request-and-limit',
        'container-security-context-user-group-id',
        'pod-networkpolicy',
      ]),
    );
  });
});
