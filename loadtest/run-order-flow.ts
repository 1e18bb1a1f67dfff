import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { checkInvariants, signIn, signUp } from '@shop/testkit';
import pg from 'pg';
import { DEMO_ADMIN_HEADERS, insiderHeaders, localApiTokens } from '../local/src/api-tokens.ts';
import { ROOT, RUN } from '../local/src/paths.ts';
import { provision } from '../local/src/provision.ts';
import { gateway, postgres, services } from '../local/src/topology.ts';
import { daprCounters, daprCountersTable } from './dapr-metrics.ts';
import { runK6 } from './k6.ts';
import { cpuSnapshot, cpuTable, idleCores, redisCommandsTable } from './process-cpu.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '250' },
    // gateway: as buyers do, signed in, through the gateway; direct: to the order service's port.
    via: { type: 'string', default: 'gateway' },
  },
});
const rate = Number(args.rate);
if (args.via !== 'gateway' && args.via !== 'direct') throw new Error('--via is gateway or direct');
const viaGateway = args.via === 'gateway';
const IDLE_SECONDS = 15;
const log = (line: string) => console.log(`[orders] ${line}`);
// biome-ignore lint/suspicious/noExplicitAny: JSON answers of our own services
const post = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...insiderHeaders(url), ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
};

/** Points for a buyer, as the demo admin grants them through the gateway (signed in once). */
let adminToken: Promise<string> | undefined;
async function grantViaGateway(userId: string, points: number) {
  adminToken ??= signIn('admin@example.com', 'admin-demo-pass').then((s) => s.token);
  for (;;) {
    const res = await fetch(`${gateway.appUrl}/users/${userId}/points/grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken}` },
      body: JSON.stringify({ amount: points, reason: 'a load test buyer', idempotencyKey: `flow-${userId}` }),
    });
    // One admin grants 80 buyers at once: past the gateway's per-user limit, it waits as told.
    if (res.status === 429) {
      await setTimeout(1000 * Number(res.headers.get('retry-after') ?? 1));
      continue;
    }
    if (!res.ok) throw new Error(`granting points answered ${res.status}: ${await res.text()}`);
    return;
  }
}

/** A buyer through the gateway: signed up with a password, signed in, points granted by the demo admin. */
async function gatewayBuyer(points: number) {
  const { token, userId } = await signUp('Flow');
  if (points > 0) await grantViaGateway(userId, points);
  return { id: userId, points, token };
}

/** A buyer made on the user service's own port, as its sidecar would. */
async function directBuyer(i: number, points: number) {
  const user = await post(`${services.user.appUrl}/users`, {
    email: `flow-${Date.now()}-${i}@example.com`,
    name: 'Flow',
  });
  if (points > 0)
    await post(
      `${services.user.appUrl}/users/${user.id}/points/grants`,
      { amount: points, reason: 'a load test buyer', idempotencyKey: `flow-${user.id}` },
      DEMO_ADMIN_HEADERS,
    );
  return { id: user.id as string, points };
}

async function fixtures() {
  log(`creating 100 buyers (one in five without points) and 10 products, ${args.via}…`);
  // Eight at a time: signing up and in is Argon2 work, which the user service bounds (a burst of
  // 100 would be answered 503 sign-in-busy, as it should).
  const users: { id: string; points: number; token?: string }[] = [];
  for (let i = 0; i < 100; i += 8) {
    const batch = Array.from({ length: Math.min(8, 100 - i) }, (_, k) => i + k);
    users.push(
      ...(await Promise.all(
        batch.map((n) => {
          const points = n % 5 === 0 ? 0 : 1_000_000;
          return viaGateway ? gatewayBuyer(points) : directBuyer(n, points);
        }),
      )),
    );
  }
  const admin = viaGateway ? await signIn('admin@example.com', 'admin-demo-pass') : undefined;
  const products = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const product = { name: `Flow ${i}`, price: 10_000 + i * 1000, stock: 100_000 };
      if (!admin) return (await post(`${services.product.appUrl}/products`, product)).id as string;
      const res = await fetch(`${gateway.appUrl}/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
        body: JSON.stringify(product),
      });
      if (!res.ok) throw new Error(`adding a product answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    }),
  );
  return { users, products };
}

async function main() {
  const ready = await fetch(`${services.order.appUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready)
    throw new Error('the local platform is not running: start it with `npm start` in another terminal');
  const tools = await provision({ needExternal: { postgres: true, redis: true, kafka: true } });
  mkdirSync(RUN, { recursive: true });
  const fixturesFile = join(RUN, 'order-flow-fixtures.json');
  writeFileSync(fixturesFile, JSON.stringify(await fixtures()));

  // What the platform burns at rest (consumers polling, heartbeats, health checks), so that the
  // per-saga figures can be read net of it.
  log(`measuring the platform at rest for ${IDLE_SECONDS} s…`);
  // (after the fixtures' own work has settled: their events consumed, Postgres's autovacuum run)
  await setTimeout(15_000);
  const idleBefore = await cpuSnapshot();
  await setTimeout(IDLE_SECONDS * 1000);
  const idle = idleCores(idleBefore, await cpuSnapshot(), IDLE_SECONDS);

  const startedAt = new Date();
  const cpuBefore = await cpuSnapshot();
  const cpuFrom = Date.now();
  const daprBefore = await daprCounters();
  log(`placing orders at ${rate}/s for 25 s, ${args.via}, and following each to its end…`);
  const summary = await runK6(tools.k6, 'order-flow.js', {
    ...(viaGateway
      ? { BASE_URL: gateway.appUrl }
      : { BASE_URL: services.order.appUrl, APP_TOKEN: localApiTokens().appOf('order') }),
    FIXTURES: fixturesFile,
    RATE: String(rate),
    POLL_MS: args['poll-ms'],
  });
  const m = summary.metrics;
  const seconds = summary.state.testRunDurationMs / 1000;
  const n = (name: string) => m[name]?.values.count ?? 0;

  const db = new pg.Client({ connectionString: postgres.databaseUrl(services.order.database) });
  await db.connect();
  // k6 stops following orders when its run ends; the sagas go on. Wait for every one to end.
  log('waiting until every order of the run has ended…');
  let rows: { id: string; status: string }[] = [];
  for (const deadline = Date.now() + 600_000; Date.now() < deadline; await setTimeout(500)) {
    rows = (await db.query('select id, status from orders where created_at >= $1', [startedAt])).rows;
    if (rows.every((r) => r.status !== 'PENDING')) break;
  }
  const [{ last }] = (
    await db.query('select max(updated_at) as last from orders where created_at >= $1', [startedAt])
  ).rows;
  await db.end();
  const lastEndedAfterS = (new Date(last).getTime() - startedAt.getTime()) / 1000;
  const cpuAfter = await cpuSnapshot();
  const cpuSeconds = (Date.now() - cpuFrom) / 1000;
  const daprAfter = await daprCounters();
  const report = await checkInvariants(
    rows.map((r) => r.id),
    { workflowsVia: services.order.daprUrl },
  );

  const completedCount = rows.filter((r) => r.status === 'COMPLETED').length;
  const figures = {
    at: new Date().toISOString(),
    rate,
    via: args.via,
    seconds,
    placed: rows.length,
    completed: rows.filter((r) => r.status === 'COMPLETED').length,
    failed: rows.filter((r) => r.status !== 'COMPLETED').length,
    followedByK6: {
      completed: n('orders_completed'),
      failed: n('orders_failed'),
      compensated: n('orders_compensated'),
    },
    lastEndedAfterS,
    completedPerSecond: rows.filter((r) => r.status === 'COMPLETED').length / lastEndedAfterS,
    sagaMs: {
      p50: m.saga_duration?.values.med,
      p95: m.saga_duration?.values['p(95)'],
      p99: m.saga_duration?.values['p(99)'],
    },
    gatewayShareMs: viaGateway
      ? {
          postP50: m.gateway_share_post?.values.med,
          postP95: m.gateway_share_post?.values['p(95)'],
          getP50: m.gateway_share_get?.values.med,
          getP95: m.gateway_share_get?.values['p(95)'],
        }
      : undefined,
    violations: report.violations,
  };
  const share = figures.gatewayShareMs;
  console.log(`
orders placed                 ${figures.placed}
completed / failed            ${figures.completed} / ${figures.failed}
last order ended after        ${lastEndedAfterS.toFixed(1)} s
completed sagas per second    ${figures.completedPerSecond.toFixed(2)}
followed by k6 to their end   ${figures.followedByK6.completed} completed, ${figures.followedByK6.failed} failed (${figures.followedByK6.compensated} with compensations)
POST to end, p50 / p95 / p99  ${figures.sagaMs.p50?.toFixed(0)} / ${figures.sagaMs.p95?.toFixed(0)} / ${figures.sagaMs.p99?.toFixed(0)} ms (orders k6 followed to their end)
invariant violations          ${report.violations.length}
${
  share
    ? `the gateway's own share      POST /orders p50 ${share.postP50?.toFixed(1)} ms, p95 ${share.postP95?.toFixed(1)} ms; GET /orders/:id p50 ${share.getP50?.toFixed(1)} ms, p95 ${share.getP95?.toFixed(1)} ms
                              (per request: k6's time less the service's, from the gateway's Server-Timing; --via direct for the run without it)`
    : 'straight to the order service (--via direct): no gateway in the way'
}

CPU of each process the runner started, from the first order to the last one's end, divided by the completed sagas (k6 not included);
idle cores: what it burnt per second at rest just before the run; net of idle: per saga after taking that away:
${cpuTable(cpuBefore, cpuAfter, completedCount, 'saga', { cores: idle, runSeconds: cpuSeconds })}

${redisCommandsTable(cpuBefore, cpuAfter, completedCount, 'saga')}

HTTP requests k6 made: ${n('http_reqs')} (${(n('http_reqs') / Math.max(rows.length, 1)).toFixed(1)} per order: the POST and the polls every ${args['poll-ms']} ms)

Dapr's own counters over the same span, per completed saga (sidecars' and scheduler's /metrics; at least 0.5 per saga):
${daprCountersTable(daprBefore, daprAfter, completedCount, 'saga')}
`);
  mkdirSync(join(ROOT, 'loadtest', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'loadtest', 'results', `order-flow-${figures.at.replaceAll(':', '-')}.json`),
    JSON.stringify(figures, null, 2),
  );
  if (report.violations.length > 0) {
    console.log(`VIOLATIONS:\n- ${report.violations.join('\n- ')}`);
    process.exit(1);
  }
  console.log(
    'invariants: every order ended, its workflow agreeing; the records of each service (stock movements, payments and captures, points ledger, coupon uses) reconcile with the orders',
  );
}

await main();
