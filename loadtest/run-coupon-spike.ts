/**
 * Coupon spike benchmark: the k6 scenario against the coupon service (actors)
 * and, in the same run, against the seeds' baseline (Redis Lua + queue +
 * worker); then the invariants, checked in Postgres; then the figures, their
 * ratios, where a request's time went (stage by stage) and the CPU each
 * process spent. Needs the local platform running (`npm start`).
 *
 *   npm run loadtest:coupons -- [--peak 1500] [--hold 10] [--users 20000] [--quota 1000] [--kill-coupon-after 8]
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { checkSpike, createSpikeCoupon, registerSpikeUsers, waitUntilResolved } from '@shop/testkit';
import pg from 'pg';
import { controlHeaders, insiderHeaders } from '../local/src/api-tokens.ts';
import { ROOT, RUN } from '../local/src/paths.ts';
import { provision } from '../local/src/provision.ts';
import { control, postgres, redis, services } from '../local/src/topology.ts';
import { table } from '../local/src/ui.ts';
import { runK6 } from './k6.ts';
import { type CpuSnapshot, cpuSnapshot, cpuTable } from './process-cpu.ts';

const { values: args } = parseArgs({
  options: {
    peak: { type: 'string', default: '1500' },
    hold: { type: 'string', default: '10' },
    users: { type: 'string', default: '20000' },
    quota: { type: 'string', default: '1000' },
    'kill-coupon-after': { type: 'string' },
  },
});
const peak = Number(args.peak);
const holdS = Number(args.hold);
/** The scenario's stages (coupon-spike.js): 3 s quiet, 1 s ramp, the hold, 1 s down. */
const PEAK_STARTS_S = 4;
const userCount = Number(args.users);
const quota = Number(args.quota);
const BASELINE_PORT = 3199;

const db = (name: string) => new pg.Pool({ connectionString: postgres.databaseUrl(name), max: 2 });
const log = (line: string) => console.log(`[spike] ${line}`);

interface K6Figures {
  requests: number;
  accepted: number;
  rateLimited: number;
  serverErrors: number;
  unanswered: number;
  /** Arrivals k6 could not send: every VU was waiting on an answer (an open model's sign of overload). */
  dropped: number;
  acceptedPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  durationS: number;
}

/** The app token for the coupon service's own port (the baseline server needs none). */
const insiderAppToken = (baseUrl: string): Record<string, string> => {
  const header = insiderHeaders(baseUrl)['dapr-api-token'];
  return header ? { APP_TOKEN: header } : {};
};

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
    {
      BASE_URL: baseUrl,
      ...insiderAppToken(baseUrl),
      COUPON_ID: couponId,
      USERS_FILE: usersFile,
      PEAK_RATE: String(peak),
      HOLD_S: String(holdS),
    },
    duringRun,
  );
  const m = summary.metrics;
  const durationS = summary.state.testRunDurationMs / 1000;
  return {
    requests: m.http_reqs?.values.count ?? 0,
    accepted: m.accepted_requests?.values.count ?? 0,
    rateLimited: m.rate_limited_requests?.values.count ?? 0,
    serverErrors: m.server_error_requests?.values.count ?? 0,
    unanswered: m.unanswered_requests?.values.count ?? 0,
    dropped: m.dropped_iterations?.values.count ?? 0,
    acceptedPerSecond: (m.accepted_requests?.values.count ?? 0) / durationS,
    p50: m.accepted_latency?.values.med ?? Number.NaN,
    p95: m.accepted_latency?.values['p(95)'] ?? Number.NaN,
    p99: m.accepted_latency?.values['p(99)'] ?? Number.NaN,
    failed: (m.http_reqs?.values.count ?? 0) - (m.accepted_requests?.values.count ?? 0),
    durationS,
  };
}

/** Seconds, as the database measures them. */
interface Timeline {
  /** The first and last accepted request (created_at). */
  firstRequest: Date;
  lastRequest: Date;
  /** The last decision (updated_at of the last request to end). */
  lastDecision: Date;
  /** Decisions made while the spike held at its peak, per second. */
  decidedPerSecondAtPeak: number;
  /** Decisions per second from the first request to the last decision. */
  decidedPerSecondOverall: number;
  /** Seconds from the last request to the last decision. */
  lastDecisionAfterSpikeS: number;
  /** Where a request's time went, p50 and p99 in ms: waiting to be taken, then being decided. */
  stages: { name: string; p50: number; p99: number }[];
}

async function timeline(couponDb: pg.Pool, couponId: string): Promise<Timeline> {
  const claimed = (
    await couponDb.query(
      "select 1 from information_schema.columns where table_name = 'issue_requests' and column_name = 'claimed_at'",
    )
  ).rowCount;
  const { rows } = await couponDb.query(
    `select min(created_at) as first, max(created_at) as last, max(updated_at) as decided, count(*)::int as n
     from issue_requests where coupon_id = $1`,
    [couponId],
  );
  const { first, last, decided, n } = rows[0] as { first: Date; last: Date; decided: Date; n: number };
  const peakFrom = new Date(first.getTime() + PEAK_STARTS_S * 1000);
  const peakTo = new Date(peakFrom.getTime() + holdS * 1000);
  const atPeak = (
    await couponDb.query(
      'select count(*)::int as n from issue_requests where coupon_id = $1 and updated_at >= $2 and updated_at < $3',
      [couponId, peakFrom, peakTo],
    )
  ).rows[0].n as number;
  const percentiles = async (name: string, expr: string) => {
    const r = (
      await couponDb.query(
        `select percentile_cont(0.5) within group (order by ${expr}) as p50,
                percentile_cont(0.99) within group (order by ${expr}) as p99
         from issue_requests where coupon_id = $1`,
        [couponId],
      )
    ).rows[0];
    return { name, p50: Number(r.p50), p99: Number(r.p99) };
  };
  const ms = (a: string, b: string) => `extract(epoch from ${b} - ${a}) * 1000`;
  const stages = [
    ...(claimed
      ? [
          await percentiles('accepted → taken by a worker', ms('created_at', 'claimed_at')),
          await percentiles('taken → decided and committed', ms('claimed_at', 'updated_at')),
        ]
      : []),
    await percentiles('accepted → decided (in all)', ms('created_at', 'updated_at')),
  ];
  return {
    firstRequest: first,
    lastRequest: last,
    lastDecision: decided,
    decidedPerSecondAtPeak: atPeak / holdS,
    decidedPerSecondOverall: n / ((decided.getTime() - first.getTime()) / 1000),
    lastDecisionAfterSpikeS: (decided.getTime() - last.getTime()) / 1000,
    stages,
  };
}

/** Waits until the coupon service's outbox has nothing left to publish; returns the seconds since `since`. */
async function waitUntilPublished(couponDb: pg.Pool, since: Date, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await couponDb.query('select count(*)::int as n from outbox where published_at is null');
    if (rows[0].n === 0 || Date.now() - started > timeoutMs) return (Date.now() - since.getTime()) / 1000;
    await sleep(250);
  }
}

async function actorRun(k6: string, couponDb: pg.Pool, usersFile: string) {
  const coupon = await createSpikeCoupon(services.coupon.appUrl, quota);
  const killAfter = args['kill-coupon-after'];
  const started = Date.now();
  log(
    `actor design: coupon ${coupon.id}, quota ${quota}, peak ${peak}/s for ${holdS} s${killAfter ? `, coupon service killed after ${killAfter}s` : ''}`,
  );
  const cpuBefore = await cpuSnapshot();
  const figures = await runSpike(k6, services.coupon.appUrl, coupon.id, usersFile, () => {
    if (!killAfter) return;
    void (async () => {
      await sleep(Number(killAfter) * 1000);
      await fetch(`${control.url}/processes/coupon/stop?signal=SIGKILL`, {
        method: 'POST',
        headers: controlHeaders(),
      });
      log('coupon service killed (SIGKILL); starting it again');
      await fetch(`${control.url}/processes/coupon/start`, { method: 'POST', headers: controlHeaders() });
      log('coupon service is back');
    })();
  });
  log('waiting until every accepted request is COMPLETED or REJECTED…');
  const lastResolved = await waitUntilResolved(couponDb, coupon.id);
  // The decisions' events must be out too before the baseline runs: the work left over would slow it.
  const outboxDrainedAfterS = await waitUntilPublished(couponDb, lastResolved);
  const cpuAfter = await cpuSnapshot();
  const resolvedAfterS = (lastResolved.getTime() - started) / 1000;
  const outcome = await checkSpike(couponDb, coupon.id, quota, figures.accepted);
  return {
    figures,
    resolvedAfterS,
    outboxDrainedAfterS,
    timeline: await timeline(couponDb, coupon.id),
    cpu: { before: cpuBefore, after: cpuAfter },
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
    log(
      `baseline (Redis Lua + queue + worker): coupon ${couponId}, quota ${quota}, peak ${peak}/s for ${holdS} s`,
    );
    const started = Date.now();
    const extra = { 'baseline (Node)': server.pid! };
    const cpuBefore = await cpuSnapshot(extra);
    const figures = await runSpike(k6, `http://127.0.0.1:${BASELINE_PORT}`, couponId, usersFile);
    const spikeEnded = Date.now();
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
    const cpuAfter = await cpuSnapshot(extra);
    const resolvedAfterS = (Date.now() - started) / 1000;
    const lastInsert = (
      await baseDb.query('select max(inserted_at) as t from baseline_user_coupons where coupon_id = $1', [
        couponId,
      ])
    ).rows[0].t as Date;
    const duplicates = (
      await baseDb.query(
        'select count(*)::int as n from (select user_id from baseline_user_coupons where coupon_id = $1 group by user_id having count(*) > 1) d',
        [couponId],
      )
    ).rows[0].n;
    await baseDb.end();
    return {
      figures,
      resolvedAfterS,
      lastInsertAfterSpikeS: (lastInsert.getTime() - spikeEnded) / 1000,
      cpu: { before: cpuBefore, after: cpuAfter },
      issued,
      duplicates,
    };
  } finally {
    server.kill('SIGTERM');
  }
}

/**
 * Is the single quota actor the limit? Claims straight through the sidecar,
 * one per actor turn (`claimBatch` of one, the worst case of the worker's
 * batches), 32 at a time, on one actor and then spread over four (what
 * sharding the quota would give), against the rate at which the worker
 * resolved requests.
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
          `${services.coupon.daprUrl}/v1.0/actors/CouponQuotaActor/${ids[i % shards]}/method/claimBatch`,
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json', ...insiderHeaders(services.coupon.daprUrl) },
            body: JSON.stringify({
              claims: [{ requestId: crypto.randomUUID(), userId: crypto.randomUUID() }],
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

/** The users of an earlier run when the coupon service still knows them all (saves minutes); else new ones. */
async function spikeUsers(couponDb: pg.Pool, usersFile: string): Promise<string[]> {
  if (existsSync(usersFile)) {
    const earlier = (JSON.parse(readFileSync(usersFile, 'utf8')) as string[]).slice(0, userCount);
    const { rows } = await couponDb.query(
      'select count(*)::int as n from known_users where user_id = any($1)',
      [earlier],
    );
    if (earlier.length === userCount && rows[0].n === userCount) {
      log(`reusing the ${userCount} users of an earlier run`);
      return earlier;
    }
  }
  log(`registering ${userCount} users…`);
  const users = await registerSpikeUsers(services.user.appUrl, couponDb, userCount);
  writeFileSync(usersFile, JSON.stringify(users));
  return users;
}

const ratio = (a: number, b: number) => fmt(a / b, 2);

async function main() {
  const ready = await fetch(`${services.coupon.appUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready)
    throw new Error('the local platform is not running: start it with `npm start` in another terminal');
  const tools = await provision({ needExternal: { postgres: true, redis: true, kafka: true } });
  const couponDb = db(services.coupon.database);
  mkdirSync(RUN, { recursive: true });
  const usersFile = join(RUN, 'spike-users.json');
  await spikeUsers(couponDb, usersFile);

  const actor = await actorRun(tools.k6, couponDb, usersFile);
  await couponDb.end();
  const baseline = await baselineRun(tools.k6, usersFile);
  log('actor claim rate, straight through the sidecar: one actor, then four…');
  const oneActor = await actorClaimRate(1);
  const fourActors = await actorClaimRate(4);
  const t = actor.timeline;
  const a = actor.figures;
  const b = baseline.figures;

  const rows = [
    ['', 'actors (ours)', 'Redis Lua + queue', 'ratio'],
    [
      'requests offered (the arrival rate)',
      String(a.requests + a.dropped),
      String(b.requests + b.dropped),
      '',
    ],
    ['not sent: k6 out of VUs (overload)', String(a.dropped), String(b.dropped), ''],
    ['requests sent', String(a.requests), String(b.requests), ''],
    [
      'accepted (202) / s',
      fmt(a.acceptedPerSecond),
      fmt(b.acceptedPerSecond),
      ratio(a.acceptedPerSecond, b.acceptedPerSecond),
    ],
    ['202 latency p50 ms', fmt(a.p50), fmt(b.p50), ratio(a.p50, b.p50)],
    ['202 latency p95 ms', fmt(a.p95), fmt(b.p95), ratio(a.p95, b.p95)],
    ['202 latency p99 ms', fmt(a.p99), fmt(b.p99), ratio(a.p99, b.p99)],
    ['429 (per-user limit)', String(a.rateLimited), String(b.rateLimited), ''],
    ['5xx', String(a.serverErrors), String(b.serverErrors), ''],
    ['no answer (connection refused or cut: a kill)', String(a.unanswered), String(b.unanswered), ''],
    ['decided / s while the spike held', fmt(t.decidedPerSecondAtPeak), 'at the 202', ''],
    ['decided / s, first request to last decision', fmt(t.decidedPerSecondOverall), 'at the 202', ''],
    [
      'last decision (baseline: last winner in Postgres), s after the spike',
      fmt(t.lastDecisionAfterSpikeS),
      fmt(baseline.lastInsertAfterSpikeS),
      '',
    ],
    [
      'last request resolved, s after the run began',
      fmt(actor.resolvedAfterS),
      fmt(baseline.resolvedAfterS),
      ratio(actor.resolvedAfterS, baseline.resolvedAfterS),
    ],
    ['issued / quota', `${actor.issued} / ${quota}`, `${baseline.issued} / ${quota}`, ''],
    ['duplicates', String(actor.duplicates), String(baseline.duplicates), ''],
    ['lost accepted requests', String(actor.lost), 'n/a', ''],
    ['recorded, answer lost in a kill', String(actor.recordedWithoutAnswer), 'n/a', ''],
  ];
  console.log(`\n${table(rows)}\n`);
  console.log(
    `Where a request's time went (ms, from the database's timestamps):\n${table([
      ['stage', 'p50', 'p99'],
      ...t.stages.map((st) => [st.name, fmt(st.p50, 0), fmt(st.p99, 0)]),
    ])}\n`,
  );
  console.log(
    `CPU of each process during the actor run (k6's first request until the last decision and its event published; k6 itself not included${args['kill-coupon-after'] ? '; the coupon process counts from its restart, the killed one is not counted' : ''}):\n${cpuTable(actor.cpu.before, actor.cpu.after, a.accepted, 'request')}\n`,
  );
  console.log(
    `CPU during the baseline run:\n${cpuTable(baseline.cpu.before, baseline.cpu.after, b.accepted, 'request')}\n`,
  );
  console.log(
    table([
      ['claims / s on one actor (sidecar, 32 in flight)', fmt(oneActor)],
      ['claims / s over four actors (sharded quota)', `${fmt(fourActors)} (x${ratio(fourActors, oneActor)})`],
    ]),
  );
  const targets = [
    ['no 5xx, every offered request sent', a.serverErrors === 0 && a.dropped === 0],
    ['202 p99 ≤ 5 × the baseline p99', a.p99 <= 5 * b.p99],
    ['≥ 1,000 decided / s while the spike held', t.decidedPerSecondAtPeak >= 1000],
    ['last decision ≤ 5 s after the spike', t.lastDecisionAfterSpikeS <= 5],
    ['0 oversold, duplicates, lost', actor.violations.length === 0],
  ] as const;
  console.log(
    `\ntargets (issue #12):\n${targets.map(([name, ok]) => `  ${ok ? 'met    ' : 'MISSED '} ${name}`).join('\n')}\n`,
  );
  const cpuDelta = (c: { before: CpuSnapshot; after: CpuSnapshot }) =>
    Object.fromEntries(
      [...c.after.cpu].map(([name, s]) => {
        const before = c.before.cpu.get(name) ?? 0;
        return [name, +(s >= before ? s - before : s).toFixed(2)];
      }),
    );
  const result = {
    at: new Date().toISOString(),
    peak,
    holdS,
    users: userCount,
    quota,
    killCouponAfter: args['kill-coupon-after'] ?? null,
    actor: { ...actor, cpu: cpuDelta(actor.cpu) },
    baseline: { ...baseline, cpu: cpuDelta(baseline.cpu) },
    claimRate: { oneActor, fourActors },
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
