import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { STATE } from '../paths.ts';
import { withPlatform } from '../run-platform.ts';
import { stopLeftovers } from '../supervisor.ts';
import { say } from '../ui.ts';

/** The chaos suite's own data, fresh each run, and in it the small filesystem for Postgres's and Kafka's. */
const CHAOS_DATA = join(STATE, 'chaos-data');
const SMALL_DISK = join(CHAOS_DATA, 'disk');
const SMALL_DISK_SIZE = '1g';

const mounted = () =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === SMALL_DISK);

/**
 * Fresh data for the run, and a tmpfs of 1 GiB for Postgres's and Kafka's
 * (what the full-disk case fills) when this process may mount one (root);
 * true if it did. Whatever an earlier run left is stopped, unmounted and removed first.
 */
async function prepareData(): Promise<boolean> {
  // A killed earlier run's Postgres or Kafka would keep its filesystem busy.
  await stopLeftovers();
  unmount();
  rmSync(CHAOS_DATA, { recursive: true, force: true });
  mkdirSync(SMALL_DISK, { recursive: true });
  process.env.SHOP_DATA_DIR = CHAOS_DATA;
  if (process.getuid?.() !== 0) return false;
  try {
    const options = `size=${SMALL_DISK_SIZE},mode=0755`;
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'shop-chaos-disk', SMALL_DISK], { stdio: 'pipe' });
  } catch {
    // Root without the right to mount (a container's, say).
    return false;
  }
  process.env.SHOP_DISK_DIR = SMALL_DISK;
  // Also when Ctrl-C ends the run (after the platform has stopped): nothing of it is left mounted.
  process.once('exit', unmount);
  return true;
}

/** Unmounts the small filesystem if it is there; lazily, so that a file still held open does not stop it. */
function unmount(): void {
  try {
    if (mounted()) execFileSync('umount', ['--lazy', SMALL_DISK], { stdio: 'pipe' });
  } catch (err) {
    say(`could not unmount ${SMALL_DISK}: ${(err as Error).message}`);
  }
}

/**
 * `npm run chaos`: the platform with a fault proxy on its links, then each part
 * frozen, stopped or killed, each link degraded or cut, and the disk filled in
 * turn (`parts`: only those).
 */
export async function chaos(parts: string[]): Promise<number> {
  process.env.SHOP_FAULT_PROXIES = '1';
  const smallDisk = await prepareData();
  if (!smallDisk) say('the full-disk case needs to mount its own small filesystem (root): it is not run');
  try {
    return await withPlatform(
      true,
      async (sup) => {
        const started = performance.now();
        // The suite is the test kit's: loaded only when asked for.
        const { runChaos } = await import('@shop/testkit/chaos');
        const rows = await runChaos(sup, parts, { smallDisk: smallDisk ? SMALL_DISK : undefined });
        const failed = rows.filter((r) => r.violations.length > 0);
        say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
        console.log(`chaos: ${rows.length - failed.length} parts passed, ${failed.length} failed`);
        return failed.length === 0 && rows.length > 0 ? 0 : 1;
      },
      'test',
    );
  } finally {
    if (smallDisk) unmount();
  }
}
