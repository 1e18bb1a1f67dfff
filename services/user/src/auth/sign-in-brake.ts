import type { EntityManager } from '@shop/platform';
import { SignInDelayedError } from './auth.errors.ts';

/** Wrong passwords an email may get before the brake: each further one doubles the wait (1 s, 2 s, 4 s…). */
export const FREE_ATTEMPTS = 5;
const MAX_WAIT_SECONDS = 900;
/** Failures older than this are forgotten (and their rows pruned). */
const FORGET_AFTER = "interval '1 day'";

/** Seconds a sign-in of this many failures in a row must wait after the last one. */
export const waitAfter = (failures: number): number =>
  failures < FREE_ATTEMPTS ? 0 : Math.min(2 ** (failures - FREE_ATTEMPTS), MAX_WAIT_SECONDS);

/**
 * The per-account brake on guessing: wrong passwords are counted per email
 * (known or not, so the brake does not tell which emails exist), and past
 * FREE_ATTEMPTS a sign-in is refused, before any password is checked, until
 * the wait since the last failure is over. A right password clears the count.
 * Kept in the database, so every replica of the service brakes alike.
 */
export async function brakeOrGo(em: EntityManager, email: string): Promise<void> {
  const [row] = await em.fork().execute<{ failures: number; waited: string }[]>(
    `select failures, extract(epoch from now() - last_failed_at) as waited from sign_in_failures
     where email = ? and last_failed_at > now() - ${FORGET_AFTER}`,
    [email],
  );
  if (!row) return;
  const left = Math.ceil(waitAfter(row.failures) - Number(row.waited));
  if (left > 0) throw new SignInDelayedError(left);
}

export async function recordFailure(em: EntityManager, email: string): Promise<void> {
  const tx = em.fork();
  await tx.execute(
    `insert into sign_in_failures (email, failures, last_failed_at) values (?, 1, now())
     on conflict (email) do update set last_failed_at = now(),
       failures = case when sign_in_failures.last_failed_at < now() - ${FORGET_AFTER} then 1
                       else sign_in_failures.failures + 1 end`,
    [email],
  );
  // Guesses at random emails must not grow the table for good: a few old rows go with each failure.
  await tx.execute(
    `delete from sign_in_failures where email in
       (select email from sign_in_failures where last_failed_at < now() - ${FORGET_AFTER} limit 10)`,
  );
}

export async function clearFailures(em: EntityManager, email: string): Promise<void> {
  await em.fork().execute('delete from sign_in_failures where email = ?', [email]);
}
