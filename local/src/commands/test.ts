import { join } from 'node:path';
import { jest } from '../jest-runner.ts';
import { ROOT } from '../paths.ts';
import { runChecked } from '../run-platform.ts';
import { say, step } from '../ui.ts';

/**
 * `npm test`: the type check and lint, then the unit, k8s, integration and
 * end-to-end suites; each suite's globalSetup starts what it needs (the
 * platform for the last two) and its teardown stops it.
 * `testFilter`: only the test files whose path matches.
 */
export async function runTests(testFilter: string[]): Promise<number> {
  const started = performance.now();
  try {
    await step('type check', async () => {
      for (const project of ['tsconfig.json', join('services', 'storefront', 'tsconfig.json')]) {
        await runChecked(process.execPath, [
          join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          project,
        ]);
      }
    });
    await step('lint and format check', () =>
      runChecked(join(ROOT, 'node_modules', '.bin', 'biome'), ['check', '.']),
    );
  } catch {
    // The checks count as one failed test, so the closing line says it.
    console.log('tests: 0 passed, 1 failed');
    return 1;
  }
  const totals = { passed: 0, failed: 0 };
  const add = (r: { passed: number; failed: number }) => {
    totals.passed += r.passed;
    totals.failed += r.failed;
  };
  add(await jest('unit', {}, testFilter));
  // Each suite's globalSetup (local/src/jest-setup/) provisions and starts what it needs.
  add(await jest('k8s', {}, testFilter));
  // One run, one platform: the integration suite's setup starts it all, not the infrastructure alone.
  add(await jest(['integration', 'e2e'], { SHOP_TEST_PLATFORM: 'full' }, testFilter));
  say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
  return totals.failed === 0 ? 0 : 1;
}
