/**
 * The chaos suite (`npm run chaos`, also run by CI): on the local platform,
 * with orders and coupon requests in flight, each part is in turn frozen
 * (SIGSTOP), stopped or killed (SIGKILL) for a while and brought back, and
 * each link of the fault proxy (local/src/fault-proxy.ts) slowed and reset, or
 * cut while the others work, and the filesystem of Postgres's and Kafka's data
 * filled (the clients must then get a 503 problem or a 202 that is kept, and
 * nothing but those two may give up). Then
 * every accepted order and coupon request must end within 60 s, no order
 * NEEDS_ATTENTION, and the invariant checkers find nothing. One row per part:
 * part, fault, duration, what was in flight, time to all-terminal after the
 * recovery, violations.
 */

import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ROOT } from '../src/paths.ts';
import type { Supervisor } from '../src/supervisor.ts';
import { faultProxy, postgres, serviceList, services } from '../src/topology.ts';
import { table } from '../src/ui.ts';
import { checkSpike, createSpikeCoupon, registerSpikeUsers } from './coupon-spike-checks.ts';
import { checkInvariants } from './invariants.ts';
import { couponLoad, type Fixtures, fixtures, orderLoad, placeOrder, untilAllEnded } from './shop-load.ts';

type ProcessFault = 'pause' | 'stop' | 'kill';
/** Degraded: 300 ± 100 ms each way and 2 % of chunks resetting their connection; cut: a partition. */
type NetworkFault = 'degrade' | 'cut';
/** Postgres's and Kafka's filesystem filled to its last byte. */
type DiskFault = 'fill';
type Fault = ProcessFault | NetworkFault | DiskFault;
export interface ChaosCase {
  /** A process, or for a network fault what its links are. */
  part: string;
  fault: Fault;
  seconds: number;
  /** A network fault's links: every one whose name contains this (topology's faultProxy). */
  links?: string;
}

const NETWORK_FAULTS: Record<NetworkFault, Record<string, unknown>> = {
  degrade: { latencyMs: 300, jitterMs: 100, resetChance: 0.02 },
  cut: { partitioned: true },
};

/**
 * Every part once. The faults vary on purpose: a frozen process keeps its
 * sockets open (callers hang until their timeouts), a stopped one refuses at
 * once, a killed one loses what it had not written down.
 */
export const CASES: ChaosCase[] = [
  { part: 'postgres', fault: 'stop', seconds: 8 },
  { part: 'postgres', fault: 'pause', seconds: 20 },
  { part: 'redis', fault: 'kill', seconds: 8 },
  { part: 'kafka', fault: 'kill', seconds: 15 },
  { part: 'placement', fault: 'kill', seconds: 10 },
  { part: 'scheduler', fault: 'kill', seconds: 10 },
  // The certificate authority away: the sidecars keep the mTLS certificates they hold (24 h).
  { part: 'sentry', fault: 'kill', seconds: 10 },
  // The trace backend hanging must cost the orders nothing: spans are sent in the background.
  { part: 'zipkin', fault: 'pause', seconds: 10 },
  ...serviceList.map((s) => ({ part: `${s.name}-dapr`, fault: 'kill' as const, seconds: 10 })),
  ...serviceList.map((s) => ({
    part: s.name,
    fault: (['order', 'coupon'].includes(s.name) ? 'kill' : 'pause') as ProcessFault,
    seconds: 10,
  })),
  // The network: each dependency slow and resetting for everyone, then one link cut while the rest work.
  { part: 'services → postgres', links: '→postgres', fault: 'degrade', seconds: 20 },
  { part: 'sidecars and services → redis', links: '→redis', fault: 'degrade', seconds: 20 },
  { part: 'everyone → kafka', links: 'kafka', fault: 'degrade', seconds: 20 },
  { part: 'sidecars → scheduler', links: '→scheduler', fault: 'degrade', seconds: 20 },
  { part: 'sidecars → placement', links: '→placement', fault: 'degrade', seconds: 20 },
  { part: 'order-dapr → redis', links: 'order-dapr→redis', fault: 'cut', seconds: 20 },
  { part: 'order → postgres', links: 'order→postgres', fault: 'cut', seconds: 20 },
  // The workflow worker's stream to its sidecar.
  { part: 'order → order-dapr', links: 'order→order-dapr', fault: 'cut', seconds: 20 },
  // Run only on the small filesystem of its own that `npm run chaos` mounts (as root).
  { part: 'disk of postgres and kafka', fault: 'fill', seconds: 20 },
];

/** The parts that may give up on a full disk (and are restarted once it has room again). */
const ON_THE_SMALL_DISK = ['postgres', 'kafka'];

const FAULT_NAMES: Record<Fault, string> = {
  pause: 'SIGSTOP',
  kill: 'SIGKILL',
  stop: 'stop',
  degrade: '300 ± 100 ms, 2 % resets',
  cut: 'partition',
  fill: 'full',
};

const SETTLE_MS = 60_000;
const ORDERS_BEFORE = 8;
const ORDER_EVERY_MS = 500;
const SPIKE_USERS = 24;
const QUOTA = 10;

const log = (line: string) => console.log(`[chaos] ${line}`);

export interface ChaosRow extends ChaosCase {
  /** Accepted (202) as the client saw it, and created as the order service has it. */
  ordersInFlight: number;
  ordersCreated: number;
  requestsInFlight: number;
  allTerminalAfterS: number | null;
  needsAttention: number;
  /** How the orders placed during the fault were answered: status (0: none within 5 s) → count. */
  answeredDuring: Record<string, number>;
  violations: string[];
}

async function setLinks(match: string, fault: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${faultProxy.controlUrl}/faults`, {
    method: 'PUT',
    body: JSON.stringify({ match, fault }),
  });
  if (!res.ok) throw new Error(`the fault proxy refused ${match}: ${res.status} ${await res.text()}`);
}

/** Writes a file into `dir` until its filesystem has not a byte left. */
function fillDisk(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(16 << 20);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/**
 * Frees the disk, then starts again what gave up meanwhile; the names of those
 * that were not allowed to (anything not on the small disk: a service that crashed).
 */
async function freeDisk(sup: Supervisor, dir: string): Promise<string[]> {
  rmSync(join(dir, 'filler'));
  const down = sup.names().filter((p) => !p.running);
  for (const { name } of down) await sup.restart(name);
  return down.map((p) => p.name).filter((name) => !ON_THE_SMALL_DISK.includes(name));
}

async function injure(sup: Supervisor, c: ChaosCase, smallDisk?: string): Promise<void> {
  if (c.fault === 'fill') fillDisk(smallDisk!);
  else if (c.fault === 'degrade' || c.fault === 'cut') await setLinks(c.links!, NETWORK_FAULTS[c.fault]);
  else if (c.fault === 'pause') sup.pause(c.part);
  else await sup.stop(c.part, c.fault === 'kill' ? 'SIGKILL' : undefined);
}

/** Heals the fault; for a full disk, the parts that crashed and should not have. */
async function heal(sup: Supervisor, c: ChaosCase, smallDisk?: string): Promise<string[]> {
  if (c.fault === 'fill') return freeDisk(sup, smallDisk!);
  if (c.fault === 'degrade' || c.fault === 'cut') await setLinks(c.links!, {});
  else if (c.fault === 'pause') sup.resume(c.part);
  else await sup.restart(c.part);
  return [];
}

async function runCase(
  sup: Supervisor,
  c: ChaosCase,
  f: Fixtures,
  dbs: { order: pg.Pool; coupon: pg.Pool },
  smallDisk: string | undefined,
) {
  const coupon = await createSpikeCoupon(services.coupon.appUrl, QUOTA);
  const spikeUsers = await registerSpikeUsers(services.user.appUrl, dbs.coupon, SPIKE_USERS);
  // A batch accepted before the fault (half of them with slow payments, so mid-saga when it
  // comes), the coupon requests, then more orders during the fault.
  const startedAt = new Date();
  const before = await Promise.all(Array.from({ length: ORDERS_BEFORE }, (_, i) => placeOrder(f, i)));
  // The fault comes as soon as the coupon requests are accepted: their events are then in the
  // outbox or on their way to the worker, and the quota actor has yet to decide most of them.
  const accepted = await couponLoad(coupon.id, spikeUsers);
  await injure(sup, c, smallDisk);
  const stop = { done: false };
  // What the clients were answered meanwhile: on a full disk, 202 (kept) or a 503 problem only.
  const answers = new Map<number, number>();
  const during = orderLoad(f, ORDERS_BEFORE, ORDER_EVERY_MS, stop, (status) =>
    answers.set(status, (answers.get(status) ?? 0) + 1),
  );
  let crashed: string[];
  try {
    await sleep(c.seconds * 1000);
    crashed = await heal(sup, c, smallDisk);
  } finally {
    stop.done = true;
  }
  const healedAt = Date.now();
  const later = await during;
  const acceptedOrders = before.filter(Boolean).length + later.length;
  // Every order the case created, also those whose answer the client never got (a POST cut by
  // its timeout may still have been committed): each must end like the others.
  const orderIds = (
    await dbs.order.query('select id from orders where user_id = any($1) and created_at >= $2', [
      f.buyers,
      startedAt,
    ])
  ).rows.map((r) => r.id as string);
  const allTerminalAfterS = await untilAllEnded(dbs, orderIds, [coupon.id], healedAt, SETTLE_MS);
  const report = await checkInvariants(orderIds, { workflowsVia: services.order.daprUrl });
  const spike = await checkSpike(dbs.coupon, coupon.id, QUOTA, accepted);
  const badAnswers = [...answers].filter(([status]) => status !== 202 && status !== 503);
  const violations = [
    ...(c.fault === 'fill'
      ? [
          ...crashed.map((name) => `${name} crashed on the full disk`),
          ...badAnswers.map(
            ([status, n]) => `${n} orders answered ${status || 'nothing within 5 s'}, not 503`,
          ),
        ]
      : []),
    ...(allTerminalAfterS === undefined ? [`not all terminal within ${SETTLE_MS / 1000} s`] : []),
    ...(report.needsAttention > 0 ? [`${report.needsAttention} orders NEEDS_ATTENTION`] : []),
    ...report.violations,
    ...spike.violations,
  ];
  return {
    ...c,
    ordersInFlight: acceptedOrders,
    ordersCreated: orderIds.length,
    requestsInFlight: accepted,
    allTerminalAfterS: allTerminalAfterS ?? null,
    needsAttention: report.needsAttention,
    answeredDuring: Object.fromEntries(answers),
    violations,
  };
}

/**
 * Runs every case (or those whose part matches `only`); returns the rows. The
 * full-disk case needs `smallDisk`, the filesystem of Postgres's and Kafka's data.
 */
export async function runChaos(
  sup: Supervisor,
  only: string[] = [],
  { smallDisk }: { smallDisk?: string } = {},
): Promise<ChaosRow[]> {
  const pool = (service: keyof typeof services) =>
    new pg.Pool({ connectionString: postgres.databaseUrl(services[service].database), max: 2 });
  const dbs = { order: pool('order'), coupon: pool('coupon') };
  // A frozen or stopped Postgres breaks idle connections: the pools reconnect.
  dbs.order.on('error', () => undefined);
  dbs.coupon.on('error', () => undefined);
  const rows: ChaosRow[] = [];
  try {
    const f = await fixtures(dbs.coupon);
    const cases = (only.length ? CASES.filter((c) => only.some((o) => c.part.includes(o))) : CASES).filter(
      (c) => c.fault !== 'fill' || smallDisk,
    );
    for (const c of cases) {
      log(`${c.part}: ${c.fault} for ${c.seconds} s…`);
      const row = await runCase(sup, c, f, dbs, smallDisk);
      log(
        `${c.part}: ${row.ordersInFlight} orders, ${row.requestsInFlight} requests; all ended ${row.allTerminalAfterS ?? '—'} s after recovery; ${row.violations.length} violations${row.violations.length ? `:\n  - ${row.violations.join('\n  - ')}` : ''}`,
      );
      rows.push(row);
    }
  } finally {
    await dbs.order.end();
    await dbs.coupon.end();
  }
  console.log(
    `\n${table([
      [
        'part',
        'fault',
        'for',
        'orders in flight: accepted (created)',
        'requests in flight (accepted)',
        'all terminal after recovery',
        'NEEDS_ATTENTION',
        'violations',
      ],
      ...rows.map((r) => [
        r.part,
        FAULT_NAMES[r.fault],
        `${r.seconds} s`,
        `${r.ordersInFlight} (${r.ordersCreated})`,
        String(r.requestsInFlight),
        r.allTerminalAfterS === null ? 'not within 60 s' : `${r.allTerminalAfterS.toFixed(1)} s`,
        String(r.needsAttention),
        String(r.violations.length),
      ]),
    ])}\n`,
  );
  const dir = join(ROOT, 'loadtest', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chaos-${new Date().toISOString().replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
  log(`figures written to ${file}`);
  return rows;
}
