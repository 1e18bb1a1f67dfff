/**
 * Coupon spike benchmark: the k6 scenario against the coupon service (actors)
 * and, in the same run, against the seeds' baseline (Redis Lua + queue +
 * worker); then the invariants, checked in Postgres; then the figures and
 * their ratios. Needs the local platform running (`npm start`).
 *
 *   npm run loadtest:coupons -- [--peak 300] [--users 3000] [--quota 500] [--kill-coupon-after 5]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ROOT, RUN } from '../local/src/paths.ts';
import { provision } from '../local/src/provision.ts';
import { control, postgres, redis, services } from '../local/src/topology.ts';
import {
  checkSpike,
  createSpikeCoupon,
  registerSpikeUsers,
  waitUntilResolved,
} from './coupon-spike-checks.ts';
import { runK6 } from './k6.ts';

const { values: args } = parseArgs({
  options: {
    peak: { type: 'string', default: '300' },
    users: { type: 'string', default: '3000' },
    quota: { type: 'string', default: '500' },
    'kill-coupon-after': { type: 'string' },
  },
});
const peak = Number(args.peak);
const userCount = Number(args.users);
const quota = Number(args.quota);
const BASELINE_PORT = 3199;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const db = (name: string) => new pg.Pool({ connectionString: postgres.databaseUrl(name), max: 2 });
const log = (line: string) => console.log(`[spike] ${line}`);

interface K6Figures {
  requests: number;
  accepted: number;
  acceptedPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  durationS: number;
}

async function runSpike(
  k6: string,
  baseUrl: string,
  couponId: string,
  usersFile: string,
  duringRun?: () => void,
): Promise<K6Figures> {
  const summary = await runK6(
    k6,
    'coupon-spike.js',
    { BASE_URL: baseUrl, COUPON_ID: couponId, USERS_FILE: usersFile, PEAK_RATE: String(peak) },
    duringRun,
  );
  const m = summary.metrics;
  const durationS = summary.state.testRunDurationMs / 1000;
  return {
    requests: m.http_reqs?.values.count ?? 0,
    accepted: m.accepted_requests?.values.count ?? 0,
    acceptedPerSecond: (m.accepted_requests?.values.count ?? 0) / durationS,
    p50: m.accepted_latency?.values.med ?? Number.NaN,
    p95: m.accepted_latency?.values['p(95)'] ?? Number.NaN,
    p99: m.accepted_latency?.values['p(99)'] ?? Number.NaN,
    failed: (m.http_reqs?.values.count ?? 0) - (m.accepted_requests?.values.count ?? 0),
    durationS,
  };
}

async function actorRun(k6: string, couponDb: pg.Pool, usersFile: string) {
  const coupon = await createSpikeCoupon(services.coupon.appUrl, quota);
  const killAfter = args['kill-coupon-after'];
  const started = Date.now();
  log(
    `actor design: coupon ${coupon.id}, quota ${quota}, peak ${peak}/s${killAfter ? `, coupon service killed after ${killAfter}s` : ''}`,
  );
  const figures = await runSpike(k6, services.coupon.appUrl, coupon.id, usersFile, () => {
    if (!killAfter) return;
    void (async () => {
      await sleep(Number(killAfter) * 1000);
      await fetch(`${control.url}/processes/coupon/stop?signal=SIGKILL`, { method: 'POST' });
      log('coupon service killed (SIGKILL); starting it again');
      await fetch(`${control.url}/processes/coupon/start`, { method: 'POST' });
      log('coupon service is back');
    })();
  });
  log('waiting until every accepted request is COMPLETED or REJECTED…');
  const lastResolved = await waitUntilResolved(couponDb, coupon.id);
  const resolvedAfterS = (lastResolved.getTime() - started) / 1000;
  const outcome = await checkSpike(couponDb, coupon.id, quota, figures.accepted);
  return {
    figures,
    resolvedAfterS,
    issued: outcome.issued,
    duplicates: outcome.duplicates,
    lost: Math.max(0, figures.accepted - outcome.recorded),
    recordedWithoutAnswer: Math.max(0, outcome.recorded - figures.accepted),
    violations: outcome.violations,
    demand: outcome.demand,
  };
}

async function baselineRun(k6: string, usersFile: string) {
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  const exists = await admin.query("select 1 from pg_database where datname = 'shop_baseline'");
  if (exists.rowCount === 0) await admin.query('create database shop_baseline');
  await admin.end();
  const server = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(ROOT, 'loadtest', 'baseline', 'redis-queue-baseline.ts'),
      String(BASELINE_PORT),
      redis.url,
      postgres.databaseUrl('shop_baseline'),
    ],
    { stdio: 'inherit' },
  );
  try {
    for (let i = 0; i < 40; i++) {
      if (
        await fetch(`http://127.0.0.1:${BASELINE_PORT}/`).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(250);
    }
    const couponId = `baseline-${Date.now()}`;
    await fetch(`http://127.0.0.1:${BASELINE_PORT}/coupons/${couponId}/stock`, {
      method: 'POST',
      body: JSON.stringify({ quota }),
    });
    log(`baseline (Redis Lua + queue + worker): coupon ${couponId}, quota ${quota}, peak ${peak}/s`);
    const started = Date.now();
    const figures = await runSpike(k6, `http://127.0.0.1:${BASELINE_PORT}`, couponId, usersFile);
    const baseDb = db('shop_baseline');
    let issued = 0;
    for (;;) {
      issued = (
        await baseDb.query('select count(*)::int as n from baseline_user_coupons where coupon_id = $1', [
          couponId,
        ])
      ).rows[0].n;
      if (issued >= quota || Date.now() - started > 600_000) break;
      await sleep(100);
    }
    const resolvedAfterS = (Date.now() - started) / 1000;
    const duplicates = (
      await baseDb.query(
        'select count(*)::int as n from (select user_id from baseline_user_coupons where coupon_id = $1 group by user_id having count(*) > 1) d',
        [couponId],
      )
    ).rows[0].n;
    await baseDb.end();
    return { figures, resolvedAfterS, issued, duplicates };
  } finally {
    server.kill('SIGTERM');
  }
}

/**
 * Is the single quota actor the limit? Claims straight through the sidecar,
 * 32 at a time, on one actor and then spread over four (what sharding the
 * quota would give), against the rate at which the worker resolved requests.
 */
async function actorClaimRate(shards: number, claims = 1200, concurrency = 32): Promise<number> {
  const ids = Array.from({ length: shards }, () => crypto.randomUUID());
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < claims) {
        const i = next++;
        const res = await fetch(
          `${services.coupon.daprUrl}/v1.0/actors/CouponQuotaActor/${ids[i % shards]}/method/claim`,
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              requestId: crypto.randomUUID(),
              userId: crypto.randomUUID(),
              quota: claims,
            }),
          },
        );
        if (!res.ok) throw new Error(`claim answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return claims / ((performance.now() - started) / 1000);
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main() {
  const ready = await fetch(`${services.coupon.appUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready)
    throw new Error('the local platform is not running: start it with `npm start` in another terminal');
  const tools = await provision({ needExternal: { postgres: true, redis: true, kafka: true } });
  const couponDb = db(services.coupon.database);
  log(`registering ${userCount} users…`);
  const users = await registerSpikeUsers(services.user.appUrl, couponDb, userCount);
  mkdirSync(RUN, { recursive: true });
  const usersFile = join(RUN, 'spike-users.json');
  writeFileSync(usersFile, JSON.stringify(users));

  const actor = await actorRun(tools.k6, couponDb, usersFile);
  await couponDb.end();
  const baseline = await baselineRun(tools.k6, usersFile);
  log('actor claim rate, straight through the sidecar: one actor, then four…');
  const oneActor = await actorClaimRate(1);
  const fourActors = await actorClaimRate(4);
  const workerRate = actor.figures.accepted / actor.resolvedAfterS;

  const rows = [
    ['', 'actors (ours)', 'Redis Lua + queue', 'ratio'],
    ['requests sent', String(actor.figures.requests), String(baseline.figures.requests), ''],
    [
      'accepted (202) / s',
      fmt(actor.figures.acceptedPerSecond),
      fmt(baseline.figures.acceptedPerSecond),
      fmt(actor.figures.acceptedPerSecond / baseline.figures.acceptedPerSecond, 2),
    ],
    [
      '202 latency p50 ms',
      fmt(actor.figures.p50),
      fmt(baseline.figures.p50),
      fmt(actor.figures.p50 / baseline.figures.p50, 2),
    ],
    [
      '202 latency p95 ms',
      fmt(actor.figures.p95),
      fmt(baseline.figures.p95),
      fmt(actor.figures.p95 / baseline.figures.p95, 2),
    ],
    [
      '202 latency p99 ms',
      fmt(actor.figures.p99),
      fmt(baseline.figures.p99),
      fmt(actor.figures.p99 / baseline.figures.p99, 2),
    ],
    ['not accepted (errors, 429)', String(actor.figures.failed), String(baseline.figures.failed), ''],
    [
      'last request resolved after s',
      fmt(actor.resolvedAfterS),
      fmt(baseline.resolvedAfterS),
      fmt(actor.resolvedAfterS / baseline.resolvedAfterS, 2),
    ],
    ['issued / quota', `${actor.issued} / ${quota}`, `${baseline.issued} / ${quota}`, ''],
    ['duplicates', String(actor.duplicates), String(baseline.duplicates), ''],
    ['lost accepted requests', String(actor.lost), 'n/a', ''],
    ['recorded, answer lost in a kill', String(actor.recordedWithoutAnswer), 'n/a', ''],
  ];
  const actorRows = [
    ['requests resolved / s (whole run, worker + actor)', fmt(workerRate)],
    ['claims / s on one actor (sidecar, 32 in flight)', fmt(oneActor)],
    ['claims / s over four actors (sharded quota)', `${fmt(fourActors)} (x${fmt(fourActors / oneActor, 2)})`],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}\n`);
  console.log(`${actorRows.map((r) => `${r[0]!.padEnd(52)}${r[1]}`).join('\n')}\n`);
  const result = {
    at: new Date().toISOString(),
    peak,
    users: userCount,
    quota,
    killCouponAfter: args['kill-coupon-after'] ?? null,
    actor,
    baseline,
    claimRate: { workerRate, oneActor, fourActors },
  };
  mkdirSync(join(ROOT, 'loadtest', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'loadtest', 'results', `coupon-spike-${result.at.replaceAll(':', '-')}.json`),
    JSON.stringify(result, null, 2),
  );
  if (actor.violations.length > 0) {
    console.log(`INVARIANTS VIOLATED:\n- ${actor.violations.join('\n- ')}`);
    process.exit(1);
  }
  console.log(
    'invariants: no oversold coupon, no duplicate, no lost or unresolved request, every COMPLETED request has its row',
  );
}

await main();
