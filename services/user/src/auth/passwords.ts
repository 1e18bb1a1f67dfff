import { hash, verify } from '@node-rs/argon2';
import { PasswordWorkBusyError } from './auth.errors.ts';

/**
 * Argon2id (the library's default algorithm) with OWASP's minimum settings:
 * 19 MiB, 2 passes, 1 lane — about 60 ms a hash here. It runs on libuv's
 * thread pool, so a sign-in does not block the event loop.
 */
const cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 200;

/**
 * The global bound on password work: at most ARGON2_CONCURRENCY hashes at
 * once (libuv's pool has 4 threads; more would only queue there, unbounded)
 * and ARGON2_QUEUE waiting. Past that a sign-in is answered 503 at once
 * (PasswordWorkBusyError) rather than waiting behind a flood for seconds.
 */
export class PasswordWork {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly queue: number;

  constructor(concurrency: number, queue: number) {
    this.concurrency = concurrency;
    this.queue = queue;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else {
      if (this.waiting.length >= this.queue) throw new PasswordWorkBusyError();
      // The slot is handed over by the one that finishes (see below), never raced for.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

const ARGON2_CONCURRENCY = 4;
const ARGON2_QUEUE = 64;
const work = new PasswordWork(ARGON2_CONCURRENCY, ARGON2_QUEUE);

export const hashPassword = (password: string): Promise<string> => work.run(() => hash(password, cost));

/** A hash of nothing anyone knows, checked when the email is unknown, so that both answers take as long. */
let decoy: Promise<string> | undefined;

/** True when the password matches; with no hash (no such user, or no password) it still spends the time. */
export async function verifyPassword(
  passwordHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (!passwordHash) {
    decoy ??= hash(crypto.randomUUID(), cost);
    const decoyHash = await decoy;
    await work.run(() => verify(decoyHash, password).catch(() => false));
    return false;
  }
  return work.run(() => verify(passwordHash, password).catch(() => false));
}
