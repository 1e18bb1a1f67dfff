import { existsSync } from 'node:fs';
import { aptInstall } from './provision.ts';
import { step } from './ui.ts';

/** Where Debian's package puts the browser the storefront's tests drive (playwright-core, no download). */
export const CHROMIUM = process.env.SHOP_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium for the storefront's end-to-end tests: Debian's
 * `chromium` package (about 20 s the first time), since Playwright's own
 * browser download cannot be reached from our machines.
 */
export async function ensureChromium(): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  await step('installing chromium from apt (once)', () => aptInstall(['chromium']));
  if (!existsSync(CHROMIUM)) throw new Error(`apt installed chromium, but ${CHROMIUM} is not there`);
  return CHROMIUM;
}
