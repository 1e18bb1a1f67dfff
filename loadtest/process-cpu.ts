/**
 * Where a benchmark's CPU goes: CPU seconds of each process the local runner
 * started (its whole process group, the children that left it, e.g.
 * Postgres's backends, which each start their own session, and the children
 * it reaped), read from /proc, and Redis's command counts. Take a
 * snapshot before and after the run; `cpuTable` prints the difference per
 * completed unit of work.
 */
import { Redis } from 'ioredis';
import { processesByPart, readStat, TICKS_PER_SECOND } from '../local/src/process-groups.ts';
import { recordedParts } from '../local/src/supervisor.ts';
import { redis as redisAddress } from '../local/src/topology.ts';
import { table } from '../local/src/ui.ts';

export interface CpuSnapshot {
  /** CPU seconds per process name (user + system, own and reaped children). */
  cpu: Map<string, number>;
  /** Redis calls per command. */
  redisCalls: Map<string, number>;
}

async function redisCommandCalls(): Promise<Map<string, number>> {
  const client = new Redis(redisAddress.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const info = await client.info('commandstats');
    return new Map(
      [...info.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)].map(
        (m) => [m[1]!, Number(m[2])] as [string, number],
      ),
    );
  } finally {
    client.disconnect();
  }
}

/** `extra`: processes of the benchmark's own (a baseline server, say) by name and pid, counted alone. */
export async function cpuSnapshot(extra: Record<string, number> = {}): Promise<CpuSnapshot> {
  const cpu = new Map(
    [...processesByPart()].map(([name, procs]) => [
      name,
      procs.reduce((sum, p) => sum + p.ticks, 0) / TICKS_PER_SECOND,
    ]),
  );
  for (const [name, pid] of Object.entries(extra))
    cpu.set(name, (readStat(String(pid))?.ticks ?? 0) / TICKS_PER_SECOND);
  // The runner itself (the parent of every group): it reads and writes every process's log lines.
  const runner = readStat(Object.values(recordedParts())[0] ?? '')?.ppid;
  const runnerStat = runner ? readStat(String(runner)) : undefined;
  if (runnerStat) cpu.set('runner (supervisor, logs)', runnerStat.ownTicks / TICKS_PER_SECOND);
  return { cpu, redisCalls: await redisCommandCalls() };
}

/** What each process burns with nothing to do (CPU seconds per second), from two snapshots `seconds` apart. */
export function idleCores(before: CpuSnapshot, after: CpuSnapshot, seconds: number): Map<string, number> {
  return new Map([...after.cpu].map(([name, s]) => [name, (s - (before.cpu.get(name) ?? 0)) / seconds]));
}

/**
 * The CPU each process spent between two snapshots, in all and per unit (ms),
 * busiest first. With `idle` (cores per process at rest and the run's length),
 * also per unit net of what the process would have burnt idle anyway.
 */
export function cpuTable(
  before: CpuSnapshot,
  after: CpuSnapshot,
  units: number,
  unit: string,
  idle?: { cores: Map<string, number>; runSeconds: number },
): string {
  const rows = [...after.cpu]
    // Less than before: the process was restarted (a kill) and counts from its new start.
    .map(
      ([name, s]) => [name, s >= (before.cpu.get(name) ?? 0) ? s - (before.cpu.get(name) ?? 0) : s] as const,
    )
    .sort((a, b) => b[1] - a[1]);
  const perUnit = (s: number) => (units ? (s * 1000) / units : 0).toFixed(1);
  const idleOf = (name: string) => (idle?.cores.get(name) ?? 0) * (idle?.runSeconds ?? 0);
  const idleTotal = rows.reduce((sum, [name]) => sum + idleOf(name), 0);
  const idleColumns = (name: string | undefined, s: number) =>
    idle
      ? [
          (name === undefined ? idleTotal / idle.runSeconds : (idle.cores.get(name) ?? 0)).toFixed(3),
          perUnit(s - (name === undefined ? idleTotal : idleOf(name))),
        ]
      : [];
  const total = rows.reduce((sum, [, s]) => sum + s, 0);
  const redisCalls = [...after.redisCalls].reduce(
    (sum, [cmd, calls]) => sum + calls - (before.redisCalls.get(cmd) ?? 0),
    0,
  );
  return table([
    [
      'process',
      'CPU s',
      `CPU ms per ${unit}`,
      'share',
      ...(idle ? ['idle cores', `net of idle, ms per ${unit}`] : []),
    ],
    ...rows.map(([name, s]) => [
      name,
      s.toFixed(1),
      perUnit(s),
      `${total ? ((100 * s) / total).toFixed(0) : 0}%`,
      ...idleColumns(name, s),
    ]),
    ['all', total.toFixed(1), perUnit(total), '100%', ...idleColumns(undefined, total)],
    ['redis commands', String(redisCalls), (units ? redisCalls / units : 0).toFixed(1), ''],
  ]);
}

/** Redis's busiest commands between two snapshots, per unit of work: what a saga writes and reads there. */
export function redisCommandsTable(
  before: CpuSnapshot,
  after: CpuSnapshot,
  units: number,
  unit: string,
): string {
  const rows = [...after.redisCalls]
    .map(([cmd, calls]) => [cmd, calls - (before.redisCalls.get(cmd) ?? 0)] as const)
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  return table([
    ['redis command', 'calls', `per ${unit}`],
    ...rows.map(([cmd, calls]) => [cmd, String(calls), (units ? calls / units : 0).toFixed(1)]),
  ]);
}
