import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.ts';
import { run } from './provision.ts';
import { step } from './ui.ts';

const SOURCE = join(ROOT, 'services', 'storefront');
/** The page's build output: what the gateway serves at `/` (its STOREFRONT_DIR). */
export const STOREFRONT_DIST = join(SOURCE, 'dist');

/** The newest modification time under a path (a file, or a folder's files). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * Builds the storefront page with Vite when it has no build or a source is
 * newer than the build (about a second), so that `npm start` and `npm test`
 * always serve the page as it is in the tree.
 */
export async function ensureStorefrontBuilt(): Promise<string> {
  const built = join(STOREFRONT_DIST, 'index.html');
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(SOURCE, p));
  if (existsSync(built) && Math.max(...sources.map(newest)) <= statSync(built).mtimeMs)
    return STOREFRONT_DIST;
  await step('building the storefront page (vite)', () =>
    run(
      process.execPath,
      [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: SOURCE,
      },
    ),
  );
  return STOREFRONT_DIST;
}
