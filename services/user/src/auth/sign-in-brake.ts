import type { EntityManager } from '@shop/platform';
import { sql } from 'kysely';
import { db, SignInFailureEntity } from '../db/entities.ts';
import { SignInDelayedError } from './auth.errors.ts';

/** Wrong passwords an email may get before the brake: each further one doubles the wait (1 s, 2 s, 4 s…). */
export const FREE_ATTEMPTS = 5;
const MAX_WAIT_SECONDS = 900;
/** Failures older than this are forgotten (and their rows pruned); the database's clock, the same for every replica. */
const forgotten = sql<Date>`now() - interval '1 day'`;

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
  const row = await db(em.fork())
    .selectFrom('sign_in_failures')
    .select(['failures', sql<string>`extract(epoch from now() - last_failed_at)`.as('waited')])
    .where('email', '=', email)
    .where('last_failed_at', '>', forgotten)
    .executeTakeFirst();
  if (!row) return;
  const left = Math.ceil(waitAfter(row.failures) - Number(row.waited));
  if (left > 0) throw new SignInDelayedError(left);
}

/** Counts a wrong password: one upsert (Kysely: em's upsert cannot say "start again after a day"). */
export async function recordFailure(em: EntityManager, email: string): Promise<void> {
  const tx = em.fork();
  await db(tx)
    .insertInto('sign_in_failures')
    .values({ email, failures: 1, last_failed_at: sql`now()` })
    .onConflict((oc) =>
      oc.column('email').doUpdateSet((eb) => ({
        last_failed_at: eb.ref('excluded.last_failed_at'),
        failures: eb
          .case()
          .when('sign_in_failures.last_failed_at', '<', forgotten)
          .then(1)
          .else(eb('sign_in_failures.failures', '+', 1))
          .end(),
      })),
    )
    .execute();
  // Guesses at random emails must not grow the table for good: a few old rows go with each failure.
  await db(tx)
    .deleteFrom('sign_in_failures')
    .where('email', 'in', (eb) =>
      eb.selectFrom('sign_in_failures').select('email').where('last_failed_at', '<', forgotten).limit(10),
    )
    .execute();
}

export async function clearFailures(em: EntityManager, email: string): Promise<void> {
  await em.fork().nativeDelete(SignInFailureEntity, { email });
}
