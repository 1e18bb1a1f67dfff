import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYS } from './local-secrets.ts';

/**
 * The key the user service signs access tokens with, made once per checkout and
 * kept in `.shop/keys` (like the data), so that a restart of the platform or of
 * the user service keeps signed-in users signed in. The chart keeps its key in a
 * Secret instead.
 */
export function localSigningKey(): string {
  const file = join(KEYS, 'jwt-signing-key.pem');
  if (!existsSync(file)) {
    mkdirSync(KEYS, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8');
}
