import type { EntityManager } from '@mikro-orm/postgresql';
import { platformDb } from '../db/platform.entities.ts';

/**
 * Runs `effect` once per (consumer, event id): the id is recorded in the same
 * transaction as the effect, so a redelivered event changes nothing and an
 * effect that fails leaves no record (the event can be retried).
 * Returns false when the event had already been processed.
 */
export async function consumeOnce(
  em: EntityManager,
  consumer: string,
  eventId: string,
  effect: (tx: EntityManager) => Promise<void>,
): Promise<boolean> {
  return em.fork().transactional(async (tx) => {
    const inserted = await platformDb(tx)
      .insertInto('inbox')
      .values({ consumer, event_id: eventId })
      .onConflict((oc) => oc.doNothing())
      .returning('event_id')
      .executeTakeFirst();
    if (!inserted) return false;
    await effect(tx);
    return true;
  });
}
