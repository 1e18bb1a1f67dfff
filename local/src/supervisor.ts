import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOGS, RUN } from './paths.ts';
import { prefix } from './ui.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this uid/gid (postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Ports it will listen on: checked free before the start, for a clear message. */
  ports?: number[];
  /** Resolves true once the process serves; polled until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** How it wants to be asked to stop (postgres: SIGINT, its "fast" shutdown). */
  stopSignal?: NodeJS.Signals;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  exited: Promise<number | null>;
  log: WriteStream;
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

const PIDS_FILE = join(RUN, 'pids.json');

/**
 * Starts processes in their own process groups, prefixes their output (and
 * keeps it in .shop/logs/<name>.log), waits until each is ready, and stops
 * them all (SIGTERM, then SIGKILL) on the way out. Pids are written down so
 * that a runner that died can have its leftovers stopped by the next one.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private readonly specs = new Map<string, ProcessSpec>();
  private stopping = false;
  private readonly echo: ((name: string, line: string) => string | undefined) | undefined;
  private readonly logs: string;
  private readonly pidsFile: string;

  /**
   * `echo` picks the lines to print on the console (all go to the log files);
   * `dir` holds logs/ and pids.json: .shop by default, a temporary one in tests.
   */
  constructor(options: {
    echo?: (name: string, line: string) => string | undefined;
    dir?: { logs: string; run: string };
  }) {
    this.echo = options.echo;
    this.logs = options.dir?.logs ?? LOGS;
    this.pidsFile = join(options.dir?.run ?? RUN, 'pids.json');
    mkdirSync(this.logs, { recursive: true });
    mkdirSync(dirname(this.pidsFile), { recursive: true });
  }

  names(): { name: string; pid: number | undefined; running: boolean }[] {
    return [...this.specs.keys()].map((name) => {
      const r = this.running.get(name);
      return { name, pid: r?.child.pid, running: r !== undefined };
    });
  }

  async start(spec: ProcessSpec): Promise<void> {
    this.specs.set(spec.name, spec);
    for (const port of spec.ports ?? []) {
      if (await isPortOpen(port)) {
        throw new Error(
          `port ${port}, needed by ${spec.name}, is already in use (another 'npm start'? try 'npm run stop', or free the port)`,
        );
      }
    }
    // stopAll ran while the ports were checked (a part beside this one failed): start nothing it missed.
    if (this.stopping) throw new Error(`${spec.name} not started: stopping`);
    const log = createWriteStream(join(this.logs, `${spec.name}.log`), { flags: 'a' });
    log.write(`\n--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      uid: spec.uid,
      gid: spec.gid,
    });
    const exited = new Promise<number | null>((resolve) => {
      // 'close' comes after the last output line, so the log can end there.
      child.once('close', (code, signal) => {
        log.end(`--- exited with ${code ?? signal}\n`);
        resolve(code);
      });
      child.once('error', (err) => {
        log.end(`--- could not start: ${err.message}\n`);
        resolve(-1);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        log.write(`${line}\n`);
        const shown = this.echo?.(spec.name, line);
        if (shown !== undefined) console.log(`${prefix(spec.name)} ${shown}`);
      });
    }
    const entry: Running = { spec, child, exited, log };
    this.running.set(spec.name, entry);
    this.savePids();
    void exited.then((code) => {
      if (this.running.get(spec.name) === entry) {
        this.running.delete(spec.name);
        this.savePids();
        // Its last lines with it: in test mode the logs are files that CI does not keep.
        if (!this.stopping)
          console.error(`${prefix(spec.name)} exited unexpectedly (${code}):\n${this.tail(spec.name, 15)}`);
      }
    });
    await this.waitReady(entry);
  }

  private async waitReady(entry: Running): Promise<void> {
    const { spec } = entry;
    const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
    let exitCode: number | null | undefined;
    void entry.exited.then((code) => {
      exitCode = code;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        throw new Error(`${spec.name} exited (${exitCode}) before it was ready:\n${this.tail(spec.name)}`);
      }
      if (await spec.ready()) return;
      await sleep(250);
    }
    throw new Error(
      `${spec.name} was not ready after ${(spec.readyTimeoutMs ?? 60_000) / 1000}s:\n${this.tail(spec.name)}`,
    );
  }

  tail(name: string, lines = 25): string {
    try {
      return readFileSync(join(this.logs, `${name}.log`), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops one process (its whole group); true if it was running. */
  async stop(name: string, signal?: NodeJS.Signals): Promise<boolean> {
    const entry = this.running.get(name);
    if (!entry) return false;
    signal ??= entry.spec.stopSignal ?? 'SIGTERM';
    this.running.delete(name);
    this.savePids();
    const pid = entry.child.pid!;
    try {
      process.kill(-pid, signal);
    } catch {
      return true;
    }
    // Wait for the whole group, not only its leader: a wrapper's children may outlive it.
    const deadline = Date.now() + 10_000;
    const timer = new AbortController();
    await Promise.race([entry.exited, sleep(10_000, undefined, { signal: timer.signal }).catch(() => {})]);
    timer.abort();
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    if (groupAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
      await entry.exited;
    }
    return true;
  }

  /** Freezes a process and its whole group (SIGSTOP), as a hung host would: its sockets stay open. */
  pause(name: string): void {
    this.signalGroup(name, 'SIGSTOP');
  }

  /** Thaws what `pause` froze (SIGCONT). */
  resume(name: string): void {
    this.signalGroup(name, 'SIGCONT');
  }

  private signalGroup(name: string, signal: NodeJS.Signals): void {
    const entry = this.running.get(name);
    if (!entry) throw new Error(`${name} is not running`);
    process.kill(-entry.child.pid!, signal);
  }

  /** Starts a process again with the spec it was first started with. */
  async restart(name: string): Promise<void> {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`unknown process ${name}`);
    await this.stop(name);
    await this.start(spec);
  }

  /** Stops everything, most recently started first (services before their infrastructure). */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const names = [...this.running.keys()].reverse();
    const services = names.filter(
      // Zipkin last too: a service sends its last spans as it stops.
      // The fault proxy too: the services' links to the rest go through it under chaos.
      (n) => !['postgres', 'redis', 'kafka', 'placement', 'scheduler', 'zipkin', 'fault-proxy'].includes(n),
    );
    await Promise.all(services.map((n) => this.stop(n)));
    for (const n of names.filter((n) => !services.includes(n))) await this.stop(n);
  }

  private savePids(): void {
    const pids: Record<string, RecordedProcess> = {};
    for (const [name, r] of this.running) {
      const pid = r.child.pid;
      const startedAt = pid ? processStartTime(pid) : undefined;
      if (pid && startedAt) pids[name] = { pid, startedAt };
    }
    writeFileSync(this.pidsFile, JSON.stringify(pids, null, 2));
  }
}

/** A process the runner started, as pids.json keeps it. */
interface RecordedProcess {
  pid: number;
  /** When it started, as the kernel has it: a PID reused by another process has another. */
  startedAt: string;
}

/**
 * When process `pid` started (Linux: /proc/<pid>/stat's start time in clock
 * ticks since boot; elsewhere: ps's lstart), or undefined when there is none.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    if (existsSync('/proc/self/stat')) {
      // The command (field 2) may hold spaces and parentheses: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    }
    return execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The parts a runner recorded in pids.json (name → PID of its process group's
 * leader) that are still the processes it started: same PID, same start time.
 */
export function recordedParts(pidsFile = PIDS_FILE): Record<string, number> {
  let recorded: Record<string, RecordedProcess | number> = {};
  try {
    recorded = JSON.parse(readFileSync(pidsFile, 'utf8'));
  } catch {
    return {};
  }
  return Object.fromEntries(
    Object.entries(recorded)
      // A bare PID (a runner before start times were kept) cannot be told from a reused one.
      .filter(([, e]) => typeof e === 'object' && processStartTime(e.pid) === e.startedAt)
      .map(([name, e]) => [name, (e as RecordedProcess).pid]),
  );
}

/**
 * Stops what a previous runner left behind (it was killed, or the terminal
 * closed): each recorded process group, only if its leader is still the
 * process the runner started (same PID, same start time) — a PID the system
 * gave to another process since is left alone.
 */
export async function stopLeftovers(pidsFile = PIDS_FILE): Promise<string[]> {
  const pids: Record<string, number> = {};
  for (const [name, pid] of Object.entries(recordedParts(pidsFile))) {
    try {
      process.kill(-pid, 'SIGTERM');
      pids[name] = pid;
    } catch {}
  }
  const stopped = Object.keys(pids);
  for (let i = 0; i < 40 && stopped.some((n) => alive(pids[n]!)); i++) await sleep(250);
  for (const name of stopped) {
    try {
      if (alive(pids[name]!)) process.kill(-pids[name]!, 'SIGKILL');
    } catch {}
  }
  // A fresh clone's first `npx jest <file>` comes here before anything made .shop/run.
  mkdirSync(dirname(pidsFile), { recursive: true });
  writeFileSync(pidsFile, '{}');
  return stopped;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
