/**
 * The scripts a user runs on a laptop (k8s/kind/up.sh, k8s/minikube/up.sh,
 * k8s/install.sh, npm run k8s:loadtest), run for real with stand-ins for
 * docker, kind, minikube, kubectl and helm that record what they were asked:
 * the values and sizes passed, the images tagged by content, what a re-run
 * after a change rolls. And every script keeps to macOS's bash 3.2.
 */

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'shop-scripts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A copy of the repository's scripts and of what their image tags hash
 * (package files, services' sources), so a test may change a source.
 */
function checkout(name: string): string {
  const dir = join(work, name);
  for (const path of ['k8s', 'charts', 'package.json', 'package-lock.json', 'local/shop.sh']) {
    cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  }
  cpSync(join(ROOT, 'services'), join(dir, 'services'), {
    recursive: true,
    filter: (src) => !src.includes('node_modules') && !src.endsWith('/dist'),
  });
  return dir;
}

/**
 * Stand-ins on the PATH: each records its arguments (one line per call in
 * calls.log) and answers as the real tool would for these scripts.
 * `kindClusters`: what `kind get clusters` lists; `metricsApi`: whether the
 * cluster has one; `helmReleases`: whether `helm status` finds a release.
 */
function fakeTools(
  dir: string,
  { kindClusters = '', metricsApi = true, helmReleases = true } = {},
): { bin: string; calls: () => string[] } {
  const bin = join(dir, 'fake-bin');
  const log = join(dir, 'calls.log');
  mkdirSync(bin, { recursive: true });
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\nexit 0\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool('docker', `[ "$1 $2" = "image ls" ] && echo 'shop/order:0.1.0-000000000000  200MB'`);
  tool('kind', `[ "$1 $2" = "get clusters" ] && printf '${kindClusters}'`);
  tool('minikube', '[ "$1" = status ] && exit 7');
  // check_sidecars reads pod=containers lines: every pod has its daprd.
  tool(
    'kubectl',
    `case "$*" in *"get pods"*) service=$(printf '%s' "$*" | sed -n 's/.*app.kubernetes.io\\/name=\\([a-z]*\\).*/\\1/p'); echo "$service-1=app daprd" ;; ${metricsApi ? '' : '*apiservice*) exit 1 ;;'} esac`,
  );
  tool('helm', helmReleases ? '' : '[ "$1" = status ] && exit 1');
  return {
    bin,
    calls: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l),
  };
}

function runScript(
  dir: string,
  bin: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const r = spawnSync('bash', [join(dir, script), ...args], {
    cwd: dir,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${script} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stderr;
}

/** The install of charts/shop among the recorded calls. */
const shopInstall = (calls: string[]) => calls.find((c) => c.startsWith('helm upgrade --install shop'))!;

describe('k8s/kind/up.sh, as a user runs it', () => {
  test('creates the cluster with the given node image, loads every image tagged by its content, installs with the kind values', () => {
    const dir = checkout('kind');
    const tools = fakeTools(dir);
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard'], { KIND_NODE_IMAGE: 'example/node:v1' });
    const calls = tools.calls();
    const create = calls.find((c) => c.startsWith('kind create cluster'));
    expect(create).toContain('--name shop');
    expect(create).toContain('--image example/node:v1');
    const loads = calls.filter((c) => c.startsWith('kind load docker-image'));
    expect(loads).toHaveLength(6);
    for (const load of loads) expect(load).toMatch(/shop\/[a-z]+:0\.1\.0-[0-9a-f]{12}$/);
    // One Dockerfile: each image names its service; the gateway's target adds the storefront page.
    const builds = calls.filter((c) => c.startsWith('docker build'));
    expect(builds).toHaveLength(6);
    for (const build of builds) {
      const service = build.match(/--build-arg SERVICE=([a-z]+)/)![1]!;
      expect(build).toContain(`--target ${service === 'gateway' ? 'gateway' : 'app'}`);
      expect(build).toContain(`-f ${join(dir, 'services/Dockerfile')} -t shop/${service}:`);
    }
    const install = shopInstall(calls);
    expect(install).toContain(`--values ${join(dir, 'k8s/kind/values.yaml')}`);
    expect(install).toContain('--wait');
  });

  test('without KIND_NODE_IMAGE, kind picks its own node image; an existing cluster is reused', () => {
    const dir = checkout('kind-default');
    const tools = fakeTools(dir, { kindClusters: 'shop\\n' });
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard']);
    expect(tools.calls().some((c) => c.startsWith('kind create'))).toBe(false);
  });

  test('A re-run after a change to one service builds, loads and installs a new tag for that service only', () => {
    const dir = checkout('rerun');
    const tools = fakeTools(dir, { kindClusters: 'shop\\n' });
    // The tags file up.sh passes to helm is temporary: the loads name the same tags.
    const loads = () =>
      Object.fromEntries(
        tools
          .calls()
          .filter((c) => c.startsWith('kind load docker-image'))
          .map((c) => c.match(/shop\/([a-z]+):(\S+)$/)!.slice(1, 3)),
      );
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard']);
    const first = loads();
    rmSync(join(dir, 'calls.log'));
    writeFileSync(join(dir, 'services/order/src/changed.ts'), 'export const changed = true;\n');
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard']);
    const second = loads();
    expect(second.order).not.toBe(first.order);
    for (const service of ['gateway', 'user', 'product', 'coupon', 'payment']) {
      expect(second[service]).toBe(first[service]);
    }
    // A change to the shared platform changes every service's image.
    rmSync(join(dir, 'calls.log'));
    writeFileSync(join(dir, 'services/platform/src/changed.ts'), 'export const changed = true;\n');
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard']);
    const third = loads();
    for (const service of ['gateway', 'user', 'product', 'coupon', 'payment', 'order']) {
      expect(third[service]).not.toBe(second[service]);
    }
    // So does a change to the one Dockerfile.
    rmSync(join(dir, 'calls.log'));
    writeFileSync(
      join(dir, 'services/Dockerfile'),
      `${readFileSync(join(dir, 'services/Dockerfile'), 'utf8')}\n`,
    );
    runScript(dir, tools.bin, 'k8s/kind/up.sh', ['--no-dashboard']);
    const fourth = loads();
    for (const service of ['gateway', 'user', 'product', 'coupon', 'payment', 'order']) {
      expect(fourth[service]).not.toBe(third[service]);
    }
  });
});

describe('k8s/minikube/up.sh, as a user runs it', () => {
  test('starts the profile at 4 CPUs and 6g by default, loads the images, installs with the minikube values', () => {
    const dir = checkout('minikube');
    const tools = fakeTools(dir);
    runScript(dir, tools.bin, 'k8s/minikube/up.sh', ['--no-dashboard']);
    const calls = tools.calls();
    expect(calls).toContain('minikube start --profile shop --cpus 4 --memory 6g');
    expect(calls.filter((c) => c.startsWith('minikube image load --profile shop shop/'))).toHaveLength(6);
    expect(shopInstall(calls)).toContain(`--values ${join(dir, 'k8s/minikube/values.yaml')}`);
  });

  test('takes its size from MINIKUBE_CPUS and MINIKUBE_MEMORY (Docker Desktop with 8 GB refuses --memory 8g)', () => {
    const dir = checkout('minikube-small');
    const tools = fakeTools(dir);
    runScript(dir, tools.bin, 'k8s/minikube/up.sh', ['--no-dashboard'], {
      MINIKUBE_CPUS: '2',
      MINIKUBE_MEMORY: '4g',
      MINIKUBE_PROFILE: 'laptop',
    });
    expect(tools.calls()).toContain('minikube start --profile laptop --cpus 2 --memory 4g');
  });
});

describe('k8s/install.sh', () => {
  test("With Dapr's chart from a folder and no values of its own, it passes nothing empty to helm", () => {
    const dir = checkout('install');
    const tools = fakeTools(dir);
    mkdirSync(join(dir, 'dapr-chart', 'crds'), { recursive: true });
    runScript(dir, tools.bin, 'k8s/install.sh', ['--dapr-chart', join(dir, 'dapr-chart'), '--no-dashboard']);
    const dapr = tools.calls().find((c) => c.startsWith('helm upgrade --install dapr '))!;
    expect(dapr).toBe(
      `helm upgrade --install dapr ${join(dir, 'dapr-chart')} --namespace dapr-system --create-namespace --wait --timeout 10m`,
    );
    expect(tools.calls().find((c) => c.startsWith('helm upgrade --install shop '))).toBe(
      `helm upgrade --install shop ${join(dir, 'charts/shop')} --namespace shop --create-namespace --wait --wait-for-jobs --timeout 15m`,
    );
  });

  test('--laptop installs both charts with the laptop profile’s values', () => {
    const dir = checkout('laptop');
    const tools = fakeTools(dir);
    runScript(dir, tools.bin, 'k8s/install.sh', ['--laptop', '--no-dashboard']);
    const calls = tools.calls();
    expect(calls.find((c) => c.startsWith('helm upgrade --install dapr '))).toContain(
      `--values ${join(dir, 'k8s/laptop/dapr-values.yaml')}`,
    );
    expect(shopInstall(calls)).toContain(`--values ${join(dir, 'k8s/laptop/values.yaml')}`);
  });

  test('metrics-server is installed for the HPAs when the cluster has no metrics API, and left alone when it has one', () => {
    const dir = checkout('metrics');
    // No release and no APIService: kind's case.
    const tools = fakeTools(dir, { metricsApi: false, helmReleases: false });
    runScript(dir, tools.bin, 'k8s/install.sh', ['--no-dashboard']);
    const install = tools.calls().find((c) => c.startsWith('helm upgrade --install metrics-server'));
    expect(install).toContain('metrics-server/metrics-server --version 3.13.0');
    expect(install).toContain('--set image.tag=v0.8.0');
    expect(install).toContain('--kubelet-insecure-tls');
    // A cluster with a metrics API of its own (minikube's addon): nothing installed.
    const other = checkout('metrics-present');
    const present = fakeTools(other, { helmReleases: false });
    runScript(other, present.bin, 'k8s/install.sh', ['--no-dashboard']);
    expect(present.calls().some((c) => c.startsWith('helm upgrade --install metrics-server'))).toBe(false);
  });

  test('The Dapr dashboard comes from its chart at a pinned version', () => {
    const dir = checkout('dashboard');
    const tools = fakeTools(dir);
    runScript(dir, tools.bin, 'k8s/install.sh', []);
    const dashboard = tools.calls().find((c) => c.startsWith('helm upgrade --install dapr-dashboard'))!;
    expect(dashboard).toMatch(/dapr\/dapr-dashboard --version \d+\.\d+\.\d+ /);
    const dapr = tools.calls().find((c) => c.startsWith('helm upgrade --install dapr '))!;
    expect(dapr).toContain('dapr/dapr --version 1.18.2');
  });
});

describe('npm run k8s:loadtest on a clone that only ran k8s:kind', () => {
  test('installs the dependencies (and Node 24) first, then runs the load test on that Node', () => {
    const dir = checkout('loadtest');
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    // npm install brings node_modules/.bin/node (the package "node"); this one says what it ran.
    writeFileSync(
      join(bin, 'npm'),
      `#!/bin/bash\necho "npm $*" >> ${dir}/calls.log\nmkdir -p node_modules/.bin\nprintf '#!/bin/bash\\necho "node $*" >> ${dir}/calls.log\\n' > node_modules/.bin/node\nchmod +x node_modules/.bin/node\ntouch node_modules/.package-lock.json\n`,
    );
    chmodSync(join(bin, 'npm'), 0o755);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const script: string = pkg.scripts['k8s:loadtest'];
    const r = spawnSync('bash', ['-c', `${script} --peak 10`], {
      cwd: dir,
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(/^npm install/);
    expect(calls[1]).toMatch(/^node .*loadtest\/run-coupon-spike-k8s\.ts --peak 10$/);
  });
});

describe('bash 3.2 (macOS) rules', () => {
  // Not k8s/offline/images/*: those run inside the Debian images they are built into.
  const scripts = [
    ...readdirSync(join(ROOT, 'k8s'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.sh') && !f.startsWith('offline/images/'))
      .map((f) => join('k8s', f)),
    'local/shop.sh',
    '.ci/run',
  ];
  // Arrays that always hold something (each starts with fixed flags): bash 3.2 expands them under `set -u`.
  const neverEmpty = new Set(['SHOP_SERVICES', 'build_args', 'shop_args', 'dapr_args', 'metrics_args']);
  const bash4 = [
    [/\b(declare|local|typeset) -[a-zA-Z]*[An]/, 'associative arrays or namerefs (bash 4)'],
    [/\b(mapfile|readarray|coproc)\b/, 'mapfile, readarray, coproc (bash 4)'],
    [/\$\{\w+(,,|\^\^|,|\^)\}/, 'case conversion, x to lower or upper case (bash 4)'],
    [/\$\{\w+@[QEPAa]\}/, 'the @Q, @E, @P, @A, @a operators (bash 4.4)'],
    [/\|&|&>>|;;&/, '|&, &>>, ;;& (bash 4)'],
    [/\bwait -n\b|\$EPOCHSECONDS|\$EPOCHREALTIME/, 'wait -n, $EPOCHSECONDS (bash 4.3, 5)'],
  ] as const;

  test.each(scripts)(
    '%s uses nothing newer than bash 3.2 and expands no array that may be empty',
    (script) => {
      const text = readFileSync(join(ROOT, script), 'utf8');
      const problems: string[] = [];
      text.split('\n').forEach((line, i) => {
        if (/^\s*#/.test(line)) return;
        for (const [pattern, what] of bash4)
          if (pattern.test(line)) problems.push(`${i + 1}: ${what}: ${line.trim()}`);
        // "${a[@]}" alone: an error under `set -u` when a is empty (bash < 4.4); ${a[@]+"${a[@]}"} is not.
        for (const m of line.matchAll(/(\+)?"\$\{(\w+)\[@\]\}"/g)) {
          if (!m[1] && !neverEmpty.has(m[2]!))
            problems.push(`${i + 1}: "\${${m[2]}[@]}" may be empty: ${line.trim()}`);
        }
      });
      expect(problems).toEqual([]);
    },
  );
});
