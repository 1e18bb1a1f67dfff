import { join } from 'node:path';
import { type Counts, jest } from '../jest-runner.ts';
import { ROOT } from '../paths.ts';
import { provision } from '../provision.ts';
import { ensureChromium } from '../provision-chromium.ts';
import { provisionK8sTools } from '../provision-k8s.ts';
import { ensureSchemathesis } from '../provision-schemathesis.ts';
import { external, runChecked, withPlatform } from '../run-platform.ts';
import { say, step } from '../ui.ts';

/** The k8s suite: charts/shop, the k8s/ scripts and the Tiltfile against real helm, kube-apiserver and tilt. */
async function chartChecks(testFilter: string[]): Promise<Counts> {
  try {
    const tools = await step('provisioning (cached after the first run)', () =>
      provision({ needExternal: external }),
    );
    const k8s = await step('provisioning the Kubernetes checks (cached after the first run)', () =>
      provisionK8sTools(),
    );
    return await jest(
      'k8s',
      {
        SHOP_HELM: tools.helm,
        SHOP_KUBE_BIN: k8s.kubeBin,
        SHOP_KUBECTL: k8s.kubectl,
        SHOP_TILT: k8s.tilt,
        SHOP_KUBE_SCORE: k8s.kubeScore,
        SHOP_DAPR_CHART: k8s.daprChart,
      },
      testFilter,
    );
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    return { passed: 0, failed: 1 };
  }
}

/**
 * `npm test`: the type check and lint, the unit suite, the k8s suite, then the
 * platform with the integration and end-to-end suites; stops all after.
 * `testFilter`: only the test files whose path matches (the k8s suite only if one does).
 */
export async function runTests(testFilter: string[]): Promise<number> {
  const started = performance.now();
  // Coupon runs as three replicas under test, so that its quota actors are
  // placed across hosts and move when one dies (local/e2e/coupon-replicas).
  process.env.SHOP_COUPON_REPLICAS ??= '3';
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
  // The fuzzer of the contract tests (local/e2e/contract): provisioned only when they run;
  // without it they fail, saying so.
  const e2eTools: Record<string, string> = {};
  if (!testFilter.length || testFilter.some((f) => /contract/.test(f))) {
    await step('provisioning schemathesis (cached after the first run)', ensureSchemathesis).then(
      (bin) => {
        e2eTools.SHOP_SCHEMATHESIS = bin;
      },
      (err: Error) => console.error(`\n${err.message}`),
    );
  }
  // The browser of the storefront's tests (local/e2e/storefront): the same way.
  if (!testFilter.length || testFilter.some((f) => /storefront|e2e/.test(f))) {
    await step('provisioning chromium (cached after the first run)', ensureChromium).then(
      (bin) => {
        e2eTools.SHOP_CHROMIUM = bin;
      },
      (err: Error) => console.error(`\n${err.message}`),
    );
  }
  if (!testFilter.length || testFilter.some((f) => /k8s|chart/.test(f))) add(await chartChecks(testFilter));
  const code = await withPlatform(
    true,
    async () => {
      add(await jest('integration', {}, testFilter));
      add(await jest('e2e', e2eTools, testFilter));
      return totals.failed === 0 ? 0 : 1;
    },
    'test',
  );
  if (code !== 0 && totals.failed === 0) totals.failed += 1;
  say(`finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
  return totals.failed === 0 ? 0 : 1;
}
