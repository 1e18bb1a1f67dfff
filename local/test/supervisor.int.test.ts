import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { eventually } from '@shop/platform/testing';
import { isPortOpen, processStartTime, Supervisor, stopLeftovers } from '../src/supervisor.ts';

let busy: Server;
let busyPort: number;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => busy.close(resolve)));

/** A port nothing listens on now (the system's pick, released): not a neighbour of a taken one, which may be in use. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('Supervisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-supervisor-'));
  const sup = new Supervisor({ dir: { logs: dir, run: dir } });
  afterAll(() => sup.stopAll());

  test('When a port it needs is taken, then the start fails at once naming the port and the part', async () => {
    await expect(
      sup.start({
        name: 'test-busy',
        command: 'sleep',
        args: ['30'],
        ports: [busyPort],
        ready: async () => true,
      }),
    ).rejects.toThrow(`port ${busyPort}, needed by test-busy, is already in use`);
  });

  test('When a process dies before it is ready, then the error says so and shows its last output', async () => {
    await expect(
      sup.start({
        name: 'test-crash',
        command: 'bash',
        args: ['-c', 'echo "cannot open data dir" >&2; exit 3'],
        ready: async () => false,
      }),
    ).rejects.toThrow(/test-crash exited \(3\) before it was ready:[\s\S]*cannot open data dir/);
  });

  test('When a process is stopped, then it and its children are gone', async () => {
    const port = await freePort();
    await sup.start({
      name: 'test-server',
      command: 'bash',
      // A child process that listens, as daprd or java would.
      args: ['-c', `node -e "require('net').createServer().listen(${port}, '127.0.0.1')" & wait`],
      ready: () => isPortOpen(port),
    });
    expect(sup.names()).toContainEqual(expect.objectContaining({ name: 'test-server', running: true }));
    expect(await sup.stop('test-server')).toBe(true);
    expect(await isPortOpen(port)).toBe(false);
  });

  test('When everything is stopped while a part is still checking its ports (another part failed), then that part is never started', async () => {
    const own = new Supervisor({ dir: { logs: dir, run: dir } });
    const port = await freePort();
    const starting = own.start({
      name: 'test-late',
      command: 'bash',
      args: ['-c', `node -e "require('net').createServer().listen(${port}, '127.0.0.1')" & wait`],
      ports: [port],
      ready: () => isPortOpen(port),
    });
    await own.stopAll();
    await expect(starting).rejects.toThrow('test-late not started: stopping');
    expect(own.names().some((p) => p.running)).toBe(false);
    expect(await isPortOpen(port)).toBe(false);
  });
});

describe('stopLeftovers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-leftovers-'));
  const file = join(dir, 'pids.json');
  const running = (pid: number) => processStartTime(pid) !== undefined;
  /** A process group of its own, as the runner starts its parts. */
  const group = () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    child.unref();
    return child.pid!;
  };

  test('When a recorded process is still the one the runner started, then its group is stopped', async () => {
    const pid = group();
    writeFileSync(file, JSON.stringify({ part: { pid, startedAt: processStartTime(pid) } }));
    expect(await stopLeftovers(file)).toEqual(['part']);
    await eventually('the part to stop', async () => !running(pid), 5_000);
  });

  test('When a recorded PID now belongs to another process (another start time), or is a bare PID, then it is left alone', async () => {
    const pid = group();
    try {
      writeFileSync(file, JSON.stringify({ reused: { pid, startedAt: '1' }, bare: pid }));
      expect(await stopLeftovers(file)).toEqual([]);
      expect(running(pid)).toBe(true);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  });
});
