import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvent } from '../events/cloud-event.ts';
import type { Logger } from '../logger.ts';
import type { OutboxRow } from './outbox.ts';

export interface Publisher {
  publish(event: DomainEvent): Promise<void>;
}

export interface RelayOptions {
  pollMs: number;
  batchSize?: number;
  /** Upper bound of the backoff after failed publishes. */
  maxBackoffMs?: number;
}

/** One relay at a time per database, so events leave in the order they were written. */
const RELAY_LOCK_KEY = 0x0_0b_b0;

/**
 * Publishes outbox rows through Dapr in id (creation) order and marks them
 * published. If the sidecar or Kafka is down the batch stops at the first
 * failure (so order is kept) and the relay backs off exponentially; the rows
 * stay until a publish succeeds, so nothing is lost. Delivery is at least
 * once: consumers de-duplicate with their inbox.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private failures = 0;

  private readonly em: EntityManager;
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly options: RelayOptions;

  constructor(em: EntityManager, publisher: Publisher, log: Logger, options: RelayOptions) {
    this.em = em;
    this.publisher = publisher;
    this.log = log;
    this.options = options;
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
    if (this.failures === 0) return this.options.pollMs;
    const max = this.options.maxBackoffMs ?? 30_000;
    return Math.min(max, this.options.pollMs * 2 ** Math.min(this.failures, 16));
  }

  /** One pass; returns how many events were published. Exposed for tests. */
  async tick(): Promise<number> {
    let failure: unknown;
    let published = 0;
    try {
      published = await this.em.fork().transactional(async (tx) => {
        const [lock] = await tx.execute<{ locked: boolean }[]>(
          'select pg_try_advisory_xact_lock(?) as locked',
          [RELAY_LOCK_KEY],
        );
        if (!lock?.locked) return 0;
        const rows = await tx.execute<OutboxRow[]>(
          'select id, topic, event, attempts from outbox where published_at is null order by id limit ?',
          [this.options.batchSize ?? 100],
        );
        let count = 0;
        for (const row of rows) {
          try {
            await this.publisher.publish(row.event);
          } catch (err) {
            // Stop here so that later events of the same aggregate do not overtake this one.
            failure = err;
            await tx.execute('update outbox set attempts = attempts + 1, last_error = ? where id = ?', [
              String((err as Error).message).slice(0, 1000),
              row.id,
            ]);
            break;
          }
          await tx.execute('update outbox set published_at = now(), attempts = attempts + 1 where id = ?', [
            row.id,
          ]);
          count += 1;
        }
        return count;
      });
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
}
