import type { EntityManager } from '@mikro-orm/postgresql';
import { type DomainEvent, uuidv7 } from '../events/cloud-event.ts';

/**
 * Writes the event into the outbox with the caller's transaction (`em` must be
 * the transactional one), so the event exists if and only if the change does.
 */
export async function addToOutbox(em: EntityManager, event: DomainEvent): Promise<void> {
  // The row id is the outbox's own (time-ordered): a re-driven event keeps its event id.
  await em.execute('insert into outbox (id, topic, event_type, subject, event) values (?, ?, ?, ?, ?)', [
    uuidv7(),
    event.topic,
    event.type,
    event.subject,
    JSON.stringify(event),
  ]);
}

export interface OutboxRow {
  id: string;
  topic: string;
  event: DomainEvent;
  attempts: number;
}
