import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { CallOptions } from '../dapr/sidecar.ts';
import { platformDb } from '../db/platform.entities.ts';
import { anyUuid } from '../db/recordset.ts';
import type { DomainEvent } from '../events/cloud-event.ts';
import type { Logger } from '../logger.ts';
import { outboxPublished } from '../observability/metrics.ts';
import { inTraceOf, SpanKind } from '../observability/tracing.ts';
import type { OutboxRow } from './outbox.ts';

const markPublished = (em: EntityManager, ids: string[]) =>
  platformDb(em)
    .updateTable('outbox')
    .set({ published_at: sql`now()`, claimed_until: null })
    .where('id', '=', anyUuid(ids))
    .execute();

export interface Publisher {
  /** Must give up after `call.timeoutMs`: the relay's lease bound counts on it. */
  publish(event: DomainEvent, call?: CallOptions): Promise<void>;
  /**
   * Publishes several events of one topic in one call (bulk publish); returns
   * the entry ids that failed (the others were published). Optional: without
   * it the relay publishes one event at a time.
   */
  publishMany?(
    topic: string,
    entries: { entryId: string; event: DomainEvent }[],
    call?: CallOptions,
  ): Promise<string[]>;
}

export interface RelayOptions {
  pollMs: number;
  batchSize?: number;
  /** Upper bound of the backoff after failed publishes. */
  maxBackoffMs?: number;
  /** How long claimed rows stay this relay's; after that another relay may publish them. */
  leaseMs?: number;
  /** Timeout of one publish; a publish is started only if it ends within the lease. */
  publishTimeoutMs?: number;
}

/**
 * Claims up to `limit` pending rows whose lease is free, in id order, taking
 * only subjects whose oldest pending row is free too: a subject is published
 * by one relay at a time, in order. SKIP LOCKED lets relays claim side by
 * side; the statement is its own short transaction.
 */
function claim(
  em: EntityManager,
  batch: { limit: number; leaseMs: number; relayId: string },
): Promise<OutboxRow[]> {
  const now = sql<Date>`clock_timestamp()`;
  return platformDb(em)
    .with('heads', (db) =>
      db
        .selectFrom('outbox as o')
        .select('o.subject')
        .where('o.published_at', 'is', null)
        .where((eb) => eb.or([eb('o.claimed_until', 'is', null), eb('o.claimed_until', '<', now)]))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox as e')
                .select('e.id')
                .where('e.published_at', 'is', null)
                .whereRef('e.subject', '=', 'o.subject')
                .whereRef('e.id', '<', 'o.id'),
            ),
          ),
        )
        .orderBy('o.id')
        .limit(batch.limit)
        .forUpdate('o')
        .skipLocked(),
    )
    .with('claimable', (db) =>
      db
        .selectFrom('outbox as f')
        .select('f.id')
        .where('f.published_at', 'is', null)
        .where('f.subject', 'in', (eb) => eb.selectFrom('heads').select('heads.subject'))
        .where((eb) => eb.or([eb('f.claimed_until', 'is', null), eb('f.claimed_until', '<', now)]))
        .orderBy('f.id')
        .limit(batch.limit)
        .forUpdate('f')
        .skipLocked(),
    )
    .updateTable('outbox')
    .set((eb) => ({
      claimed_until: sql`clock_timestamp() + ${batch.leaseMs} * interval '1 millisecond'`,
      claimed_by: batch.relayId,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', (eb) => eb.selectFrom('claimable').select('claimable.id'))
    .returning(['id', 'topic', 'event', 'attempts'])
    .execute();
}

/**
 * Publishes outbox rows through Dapr and marks them published, with no
 * transaction or lock held while it waits for the sidecar: it claims a batch
 * (a lease of `leaseMs`), publishes each row, then marks it sent. Any number
 * of relays (replicas of a service) can run; a relay that dies after claiming
 * leaves rows that another relay claims when the lease ends. A row may thus
 * be published twice (at least once; the consumers' inbox de-duplicates).
 *
 * Order per subject (the aggregate, also the Kafka partition key) holds: a
 * relay only starts on a subject's oldest pending row, publishes a subject's
 * rows in id order, and starts no publish that could outlast its lease.
 * If the sidecar or Kafka is down the pass stops at the first failure, the
 * unsent rows are released, and the relay backs off exponentially.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private failures = 0;
  /** The last pass claimed a full batch: there is probably more, so the next pass starts at once. */
  private backlog = false;
  private readonly id = randomUUID();

  private readonly em: EntityManager;
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly options: Required<RelayOptions>;

  constructor(em: EntityManager, publisher: Publisher, log: Logger, options: RelayOptions) {
    this.em = em;
    this.publisher = publisher;
    this.log = log;
    this.options = {
      batchSize: 100,
      maxBackoffMs: 30_000,
      leaseMs: 30_000,
      publishTimeoutMs: 5_000,
      ...options,
    };
    if (this.options.leaseMs < 2 * this.options.publishTimeoutMs)
      throw new Error('outbox relay: leaseMs must be at least twice publishTimeoutMs');
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a pass soon, e.g. right after a transaction that wrote events. */
  nudge(): void {
    if (!this.stopped && this.failures === 0) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.running) return this.schedule(this.options.pollMs);
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.nextDelay());
      });
    }, delayMs);
  }

  private nextDelay(): number {
    if (this.failures === 0) return this.backlog ? 0 : this.options.pollMs;
    return Math.min(this.options.maxBackoffMs, this.options.pollMs * 2 ** Math.min(this.failures, 16));
  }

  /** One pass; returns how many events were published. Exposed for tests. */
  async tick(): Promise<number> {
    let failure: unknown;
    let published = 0;
    const em = this.em.fork();
    try {
      const { leaseMs, batchSize } = this.options;
      // Measured before the claim, so this relay's idea of its lease ends before the database's.
      const leaseEnds = performance.now() + leaseMs;
      const rows = await claim(em, { limit: batchSize, leaseMs, relayId: this.id });
      rows.sort((a, b) => (a.id < b.id ? -1 : 1));
      this.backlog = rows.length === batchSize;
      // Events written in a trace are published in it, one by one (a bulk call has no trace per
      // entry); a pass without any goes in bulk.
      const sent =
        this.publisher.publishMany && !rows.some((r) => r.event.traceparent)
          ? await this.publishInRounds(em, rows, leaseEnds)
          : await this.publishOneByOne(em, rows, leaseEnds);
      published = sent.published;
      failure = sent.failure;
      if (published < rows.length) {
        // Give back what this pass did not send, so it need not wait for the lease to end.
        await platformDb(em)
          .updateTable('outbox')
          .set({ claimed_until: null, claimed_by: null })
          .where('claimed_by', '=', this.id)
          .where('published_at', 'is', null)
          .execute();
      }
    } catch (err) {
      failure = err;
    }
    if (failure === undefined) {
      this.failures = 0;
    } else {
      this.failures += 1;
      this.log.warn(
        { err: failure, failures: this.failures, retryInMs: this.nextDelay() },
        'outbox relay could not publish; will retry',
      );
    }
    return published;
  }

  private async publishOneByOne(
    em: EntityManager,
    rows: OutboxRow[],
    leaseEnds: number,
  ): Promise<{ published: number; failure?: unknown }> {
    const { publishTimeoutMs } = this.options;
    let published = 0;
    for (const row of rows) {
      if (performance.now() + publishTimeoutMs > leaseEnds) break;
      try {
        const { event } = row;
        await inTraceOf(
          event.traceparent,
          `publish ${event.topic}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.destination.name': event.topic,
              'event.type': event.type,
              'event.id': event.id,
            },
          },
          () => this.publisher.publish(event, { timeoutMs: publishTimeoutMs }),
        );
        outboxPublished.inc({ topic: event.topic });
      } catch (err) {
        // Stop here so that later events of the same aggregate do not overtake this one.
        await this.recordError(em, [row.id], err);
        return { published, failure: err };
      }
      await markPublished(em, [row.id]);
      published += 1;
    }
    return { published };
  }

  /**
   * Bulk publish, in rounds: a round holds the oldest unsent row of each
   * subject (one bulk call per topic), so that a subject's events stay in
   * order even when some entries of a call fail; the published rows are
   * marked in one statement per round. The pass stops at the first round with
   * a failure, as one by one.
   */
  private async publishInRounds(
    em: EntityManager,
    rows: OutboxRow[],
    leaseEnds: number,
  ): Promise<{ published: number; failure?: unknown }> {
    const { publishTimeoutMs } = this.options;
    let published = 0;
    let remaining = rows;
    while (remaining.length > 0) {
      if (performance.now() + publishTimeoutMs > leaseEnds) break;
      const subjects = new Set<string>();
      const round: OutboxRow[] = [];
      const later: OutboxRow[] = [];
      for (const row of remaining) {
        if (subjects.has(row.event.subject)) later.push(row);
        else {
          subjects.add(row.event.subject);
          round.push(row);
        }
      }
      remaining = later;
      const failed: string[] = [];
      let failure: unknown;
      await Promise.all(
        [...Map.groupBy(round, (r) => r.topic)].map(async ([topic, topicRows]) => {
          try {
            const entries = topicRows.map((r) => ({ entryId: r.id, event: r.event }));
            failed.push(
              ...(await this.publisher.publishMany!(topic, entries, { timeoutMs: publishTimeoutMs })),
            );
          } catch (err) {
            failure = err;
            failed.push(...topicRows.map((r) => r.id));
          }
        }),
      );
      const sent = round.filter((r) => !failed.includes(r.id)).map((r) => r.id);
      for (const r of round) if (!failed.includes(r.id)) outboxPublished.inc({ topic: r.topic });
      if (sent.length > 0) {
        await markPublished(em, sent);
        published += sent.length;
      }
      if (failed.length > 0) {
        failure ??= new Error(`bulk publish: ${failed.length} of ${round.length} events failed`);
        await this.recordError(em, failed, failure);
        return { published, failure };
      }
    }
    return { published };
  }

  private async recordError(em: EntityManager, ids: string[], err: unknown): Promise<void> {
    await platformDb(em)
      .updateTable('outbox')
      .set({ last_error: String((err as Error).message).slice(0, 1000) })
      .where('id', '=', anyUuid(ids))
      .execute();
  }
}
