import { withPlatform } from '../run-platform.ts';
import { say } from '../ui.ts';

/**
 * `npm run chaos`: the platform with a fault proxy on its links, then each part
 * frozen, stopped or killed and each link degraded or cut in turn (`parts`: only those).
 */
export function chaos(parts: string[]): Promise<number> {
  process.env.SHOP_FAULT_PROXIES = '1';
  return withPlatform(
    true,
    async (sup) => {
      const started = performance.now();
      // The suite is the test kit's: loaded only when asked for.
      const { runChaos } = await import('@shop/testkit/chaos');
      const rows = await runChaos(sup, parts);
      const failed = rows.filter((r) => r.violations.length > 0);
      say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
      console.log(`chaos: ${rows.length - failed.length} parts passed, ${failed.length} failed`);
      return failed.length === 0 && rows.length > 0 ? 0 : 1;
    },
    'test',
  );
}
