import { ensureChromium } from '../provision-chromium.ts';
import { ensureSchemathesis } from '../provision-schemathesis.ts';
import { step } from '../ui.ts';
import { ensurePlatform } from './platform.ts';

/**
 * The end-to-end suite's globalSetup: the whole platform in test mode, and the
 * tools of its browser and contract tests. A tool that cannot be provisioned
 * fails only the tests that need it, saying so.
 */
export default async function e2eSetup(): Promise<void> {
  // Coupon runs as three replicas under test, so that its quota actors are
  // placed across hosts and move when one dies (local/e2e/coupon-replicas).
  process.env.SHOP_COUPON_REPLICAS ??= '3';
  // A completed workflow's state purged soon, so that local/e2e/workflow-retention sees it go.
  process.env.SHOP_WORKFLOW_RETENTION_COMPLETED ??= '15s';
  const tools: [string, string, () => Promise<string>][] = [
    ['SHOP_SCHEMATHESIS', 'schemathesis (the contract tests)', ensureSchemathesis],
    ['SHOP_CHROMIUM', 'chromium (the storefront tests)', ensureChromium],
  ];
  for (const [name, what, ensure] of tools) {
    if (process.env[name]) continue;
    await step(`provisioning ${what}, cached after the first run`, ensure).then(
      (bin) => {
        process.env[name] = bin;
      },
      (err: Error) => console.error(`\n${err.message}`),
    );
  }
  await ensurePlatform('platform');
}
