import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { processStartTime, stopLeftovers } from './supervisor.ts';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-supervisor-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('what an earlier run left behind', () => {
  test('On a fresh clone, where no run has made .shop/run yet, then there is nothing to stop and the record is started', async () => {
    const pids = join(scratch(), 'run', 'pids.json');
    expect(await stopLeftovers(pids)).toEqual([]);
    expect(JSON.parse(readFileSync(pids, 'utf8'))).toEqual({});
  });

  test('When a recorded process is still the one the runner started, then it is stopped', async () => {
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const pids = join(scratch(), 'pids.json');
    writeFileSync(
      pids,
      JSON.stringify({ leftover: { pid: child.pid, startedAt: processStartTime(child.pid!) } }),
    );
    expect(await stopLeftovers(pids)).toEqual(['leftover']);
    expect(await exited).toBe('SIGTERM');
  });
});
