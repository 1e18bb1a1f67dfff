import type { EntityManager } from '@mikro-orm/postgresql';
import { type DomainEvent, uuidv7 } from '../events/cloud-event.ts';
import { currentTraceparent } from '../observability/tracing.ts';

/**
 * Writes the event into the outbox with the caller's transaction (`em` must be
 * the transactional one), so the event exists if and only if the change does.
 * The active trace is stored with it: the relay publishes it in that trace.
 */
export async function addToOutbox(em: EntityManager, event: DomainEvent): Promise<void> {
  // The row id is the outbox's own (time-ordered): a re-driven event keeps its event id.
  await em.execute('insert into outbox (id, topic, event_type, subject, event) values (?, ?, ?, ?, ?)', [
    uuidv7(),
    event.topic,
    event.type,
    event.subject,
    JSON.stringify({ ...event, traceparent: event.traceparent ?? currentTraceparent() }),
  ]);
}

/**
 * Several events in one statement (a batch of decisions, say), with the
 * caller's transaction like `addToOutbox`. The rows get ids in the order
 * given, so events of one subject keep their order.
 */
export async function addManyToOutbox(em: EntityManager, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => ({
    id: uuidv7(),
    topic: event.topic,
    event_type: event.type,
    subject: event.subject,
    event,
  }));
  await em.execute(
    `insert into outbox (id, topic, event_type, subject, event)
     select id, topic, event_type, subject, event
     from jsonb_to_recordset(?::jsonb) as r(id uuid, topic text, event_type text, subject text, event jsonb)`,
    [JSON.stringify(rows)],
  );
}

export interface OutboxRow {
  id: string;
  topic: string;
  event: DomainEvent;
  attempts: number;
}
