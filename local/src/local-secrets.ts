import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE } from './paths.ts';

/** Where the local platform keeps its secrets: readable by the runner's user only. */
export const KEYS = join(STATE, 'keys');

/**
 * A random secret of the local platform (an API token, a password), made once
 * per checkout in `.shop/keys/<name>` (0600, in a 0700 folder) and read from
 * there by the runner, the tests and the benchmarks alike.
 */
export function localSecret(name: string): string {
  const file = join(KEYS, name);
  if (!existsSync(file)) {
    mkdirSync(KEYS, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8');
}
