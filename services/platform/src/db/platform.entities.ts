import { defineEntity, p } from '@mikro-orm/core';
import type { EntityManager, InferKyselyDB } from '@mikro-orm/postgresql';
import type { DomainEvent, ReceivedEvent } from '../events/cloud-event.ts';

/** The tables every service has (platform.migrations.ts) as MikroORM sees them. */

/** The transactional outbox: an event per row, written with the change, published by the relay. */
export const OutboxEntity = defineEntity({
  name: 'OutboxRow',
  tableName: 'outbox',
  properties: {
    id: p.uuid().primary(),
    topic: p.string(),
    eventType: p.string().fieldName('event_type'),
    subject: p.string(),
    event: p.json<DomainEvent>(),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    publishedAt: p.datetime().nullable().fieldName('published_at'),
    attempts: p.integer().default(0),
    lastError: p.string().nullable().fieldName('last_error'),
    /** A relay's lease on the row: it publishes outside any transaction. */
    claimedUntil: p.datetime().nullable().fieldName('claimed_until'),
    claimedBy: p.uuid().nullable().fieldName('claimed_by'),
  },
});

/** The events each consumer has handled: once per (consumer, event id). */
export const InboxEntity = defineEntity({
  name: 'InboxEntry',
  tableName: 'inbox',
  properties: {
    consumer: p.string().primary(),
    eventId: p.string().primary().fieldName('event_id'),
    processedAt: p.datetime().defaultRaw('now()').fieldName('processed_at'),
  },
});

/** What Dapr gave up delivering to this service, kept for an operator's re-drive. */
export const DeadLetterEntity = defineEntity({
  name: 'DeadLetter',
  tableName: 'dead_letters',
  properties: {
    id: p.uuid().primary(),
    topic: p.string(),
    eventId: p.string().fieldName('event_id'),
    eventType: p.string().nullable().fieldName('event_type'),
    event: p.json<ReceivedEvent>(),
    receivedAt: p.datetime().defaultRaw('now()').fieldName('received_at'),
    redrivenAt: p.datetime().nullable().fieldName('redriven_at'),
  },
});

export const platformEntities = [OutboxEntity, InboxEntity, DeadLetterEntity];

export type PlatformDb = InferKyselyDB<typeof OutboxEntity | typeof InboxEntity | typeof DeadLetterEntity>;

/** Kysely bound to `em` (and so to its transaction), for the outbox's set-based statements. */
export const platformDb = (em: EntityManager) => em.getKysely<PlatformDb>();
