import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordedParts } from './supervisor.ts';

/** Fields of one /proc/<pid>/stat: the parent (4), the process group (5), utime+stime (14-15) and with the reaped children's (16-17). */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  ticks: number;
  ownTicks: number;
}

export const TICKS_PER_SECOND = 100;

export function readStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8');
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i - 3]);
    return {
      pid: Number(pid),
      ppid: n(4),
      pgrp: n(5),
      ticks: n(14) + n(15) + n(16) + n(17),
      ownTicks: n(14) + n(15),
    };
  } catch {
    return undefined;
  }
}

/**
 * Every live process of each part the local runner started (its process
 * group), by part name. Postgres's backends and helpers each start a session
 * of their own (setsid): they count with the part of the process that forked them.
 */
export function processesByPart(): Map<string, ProcStat[]> {
  const groups = recordedParts();
  const partOf = new Map(Object.entries(groups).map(([name, pgid]) => [pgid, name]));
  const stats = new Map<number, ProcStat>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const stat = readStat(pid);
    if (stat) stats.set(stat.pid, stat);
  }
  const byPart = new Map<string, ProcStat[]>(Object.keys(groups).map((name) => [name, []]));
  for (const stat of stats.values()) {
    const part = partOf.get(stat.pgrp) ?? partOf.get(stats.get(stat.ppid)?.pgrp ?? -1);
    if (part) byPart.get(part)!.push(stat);
  }
  return byPart;
}

/** Resident memory of one process in bytes (VmRSS), 0 once it is gone. */
export function residentBytes(pid: number): number {
  try {
    const status = readFileSync(join('/proc', String(pid), 'status'), 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
