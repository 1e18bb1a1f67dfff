/**
 * The coupon spike inside Kubernetes: k6 runs as a Job (k8s/coupon-spike-job.yaml, with a
 * NetworkPolicy that lets it reach the coupon service's port for the run's length)
 * against the coupon Service, then the same invariants as the local run are
 * checked in the coupon service's database. Needs kubectl on a cluster where
 * charts/shop runs (bundled Postgres, or --coupon-db-url).
 *
 *   npm run k8s:loadtest -- [--namespace shop] [--peak 150] [--users 1000] [--quota 200]
 *                           [--k6-image grafana/k6:2.0.0] [--coupon-db-url postgres://...]
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { checkSpike, createSpikeCoupon, Kubectl, registerSpikeUsers, waitUntilResolved } from '@shop/testkit';
import pg from 'pg';
import { ROOT } from '../local/src/paths.ts';

const { values: args } = parseArgs({
  options: {
    namespace: { type: 'string', default: process.env.SHOP_NAMESPACE ?? 'shop' },
    peak: { type: 'string', default: '150' },
    users: { type: 'string', default: '1000' },
    quota: { type: 'string', default: '200' },
    'k6-image': { type: 'string', default: 'grafana/k6:2.0.0' },
    'coupon-db-url': { type: 'string' },
    'timeout-s': { type: 'string', default: '600' },
  },
});
const ns = args.namespace;
const quota = Number(args.quota);
const cluster = new Kubectl(ns);
const kubectl = (...a: string[]) => cluster.run(...a);
const log = (line: string) => console.log(`[k8s-spike] ${line}`);

async function main(): Promise<number> {
  const userUrl = await cluster.serviceUrl('user');
  const couponUrl = await cluster.serviceUrl('coupon');
  // The coupon service's database: given, or the bundled one.
  const couponDb = new pg.Pool({
    connectionString: args['coupon-db-url'] ?? (await cluster.bundledDatabaseUrl('coupon')),
    max: 2,
  });
  let name = '';
  try {
    log(`registering ${args.users} users…`);
    const users = await registerSpikeUsers(userUrl, couponDb, Number(args.users));
    const coupon = await createSpikeCoupon(couponUrl, quota);
    name = `coupon-spike-${Date.now()}`;
    log(`coupon ${coupon.id}, quota ${quota}, peak ${args.peak}/s: Job ${name} (${args['k6-image']})`);
    const manifest = readFileSync(join(ROOT, 'loadtest', 'k8s', 'coupon-spike-job.yaml'), 'utf8').replace(
      /\$\{(\w+)\}/g,
      (_, key: string) =>
        ({
          NAME: name,
          NAMESPACE: ns,
          K6_IMAGE: args['k6-image'],
          COUPON_ID: coupon.id,
          PEAK_RATE: args.peak,
        })[key] ?? `\${${key}}`,
    );
    execFileSync(
      cluster.bin,
      [
        '-n',
        ns,
        'create',
        'configmap',
        name,
        `--from-file=coupon-spike.js=${join(ROOT, 'loadtest', 'coupon-spike.js')}`,
        '--from-literal',
        `users.json=${JSON.stringify(users)}`,
      ],
      { stdio: 'ignore' },
    );
    execFileSync(cluster.bin, ['-n', ns, 'apply', '-f', '-'], {
      input: manifest,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    const started = Date.now();
    const timeoutS = Number(args['timeout-s']);
    let state = '';
    // What the coupon service's HPA does while the spike holds (none: scaled by hand or HPA off).
    const replicas = new Set<string>();
    while (!state) {
      const conditions = kubectl('get', 'job', name, '-o', 'jsonpath={.status.conditions[*].type}');
      state = ['Complete', 'Failed'].find((c) => conditions.split(' ').includes(c)) ?? '';
      if (!state && Date.now() - started > timeoutS * 1000) state = 'TimedOut';
      replicas.add(kubectl('get', 'deploy', 'coupon', '-o', 'jsonpath={.status.readyReplicas}') || '0');
      if (!state) await sleep(2000);
    }
    const logs = kubectl('logs', `job/${name}`);
    if (state !== 'Complete') {
      console.log(logs);
      throw new Error(`Job ${name} ended ${state}`);
    }
    const summary = JSON.parse(logs.trim().split('\n').pop()!);
    const m = summary.metrics;
    const accepted = m.accepted_requests?.values.count ?? 0;
    const durationS = summary.state.testRunDurationMs / 1000;
    log(
      `k6 in the cluster: ${m.http_reqs?.values.count ?? 0} requests, ${accepted} accepted (${(accepted / durationS).toFixed(1)}/s), ` +
        `202 latency p50 ${m.accepted_latency?.values.med?.toFixed(1)} ms, p95 ${m.accepted_latency?.values['p(95)']?.toFixed(1)} ms, p99 ${m.accepted_latency?.values['p(99)']?.toFixed(1)} ms`,
    );
    log(
      `coupon replicas Ready while the Job ran: ${[...replicas].join(' → ')} (kubectl -n ${ns} get hpa coupon)`,
    );
    log('waiting until every accepted request is COMPLETED or REJECTED…');
    const last = await waitUntilResolved(couponDb, coupon.id);
    const outcome = await checkSpike(couponDb, coupon.id, quota, accepted);
    log(
      `resolved ${((last.getTime() - started) / 1000).toFixed(1)} s after the Job started; ${outcome.issued} issued of ${quota}, demand ${outcome.demand}, ${outcome.duplicates} duplicates`,
    );
    kubectl('delete', 'configmap', name);
    if (outcome.violations.length > 0) {
      log(`INVARIANTS VIOLATED:\n- ${outcome.violations.join('\n- ')}`);
      return 1;
    }
    log(
      'invariants: no oversold coupon, no duplicate, no lost or unresolved request, every COMPLETED request has its row',
    );
    return 0;
  } finally {
    // The Job's way past the chart's NetworkPolicies ends with the run.
    if (name) kubectl('delete', 'networkpolicy', name, '--ignore-not-found');
    await couponDb.end();
    cluster.closeForwards();
  }
}

process.exit(await main());
