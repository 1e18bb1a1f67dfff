import type { EntityManager } from '@mikro-orm/postgresql';
import { platformDb } from '../db/platform.entities.ts';
import { type DomainEvent, uuidv7 } from '../events/cloud-event.ts';
import { currentTraceparent } from '../observability/tracing.ts';

/**
 * Writes the event into the outbox with the caller's transaction (`em` must be
 * the transactional one), so the event exists if and only if the change does.
 * The active trace is stored with it: the relay publishes it in that trace.
 */
export async function addToOutbox(em: EntityManager, event: DomainEvent): Promise<void> {
  await addManyToOutbox(em, [{ ...event, traceparent: event.traceparent ?? currentTraceparent() }]);
}

/**
 * Several events in one statement (a batch of decisions, say), with the
 * caller's transaction like `addToOutbox`. The rows get ids in the order
 * given, so events of one subject keep their order.
 */
export async function addManyToOutbox(em: EntityManager, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  // The row id is the outbox's own (time-ordered): a re-driven event keeps its event id.
  const rows = events.map((event) => ({
    id: uuidv7(),
    topic: event.topic,
    event_type: event.type,
    subject: event.subject,
    event, // pg sends an object as its JSON
  }));
  await platformDb(em).insertInto('outbox').values(rows).execute();
}

export interface OutboxRow {
  id: string;
  topic: string;
  event: DomainEvent;
  attempts: number;
}
