import { parseArgs } from 'node:util';
import { withPlatform } from '../run-platform.ts';
import { say } from '../ui.ts';

/**
 * `npm run soak -- --minutes 60 [--rate 2]`: the platform with a steady mixed
 * load for that long, sampled; fails when something grows after the warm-up,
 * an order does not end or an invariant breaks (local/testkit/soak.ts).
 */
export async function soak(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { minutes: { type: 'string', default: '60' }, rate: { type: 'string', default: '2' } },
  });
  const minutes = Number(values.minutes);
  const rate = Number(values.rate);
  if (!(minutes >= 2) || !(rate > 0)) {
    console.error('usage: npm run soak -- --minutes <2 or more> [--rate <orders a second>]');
    return 2;
  }
  // The suite is the test kit's: loaded only when asked for.
  const { runSoak, soakRetentionSeconds } = await import('@shop/testkit/soak');
  // What is swept is kept a sixth of the run, so that its plateau comes within the warm-up:
  // the services and the sidecars' Configuration take these when the platform starts.
  const keep = soakRetentionSeconds(minutes);
  Object.assign(process.env, {
    SHOP_WORKFLOW_RETENTION_COMPLETED: `${keep}s`,
    RETENTION_INBOX_HOURS: String(keep / 3600),
    RETENTION_OUTBOX_HOURS: String(keep / 3600),
    RETENTION_DEAD_LETTERS_HOURS: String(keep / 3600),
    EXPORT_RETENTION_HOURS: String(keep / 3600),
    RETENTION_SWEEP_MS: String(Math.max(5_000, (keep * 1000) / 4)),
  });
  return withPlatform(
    true,
    async () => {
      const result = await runSoak({ minutes, rate });
      if (!result.ok) console.log(`soak: failed:\n  - ${result.violations.join('\n  - ')}`);
      else say(`soak: nothing grew after the warm-up, every order ended, the invariants hold`);
      return result.ok ? 0 : 1;
    },
    'test',
  );
}
