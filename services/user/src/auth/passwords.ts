import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id (the library's default algorithm) with OWASP's minimum settings:
 * 19 MiB, 2 passes, 1 lane — about 60 ms a hash here. It runs on libuv's
 * thread pool, so a sign-in does not block the event loop.
 */
const cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 200;

export const hashPassword = (password: string): Promise<string> => hash(password, cost);

/** A hash of nothing anyone knows, checked when the email is unknown, so that both answers take as long. */
let decoy: Promise<string> | undefined;

/** True when the password matches; with no hash (no such user, or no password) it still spends the time. */
export async function verifyPassword(
  passwordHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (!passwordHash) {
    decoy ??= hashPassword(crypto.randomUUID());
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
