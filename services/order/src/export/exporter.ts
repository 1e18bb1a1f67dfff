import {
  defineCounter,
  defineScrapedGauge,
  type EntityManager,
  type Logger,
  runPeriodically,
} from '@shop/platform';
import {
  type ClaimedExport,
  claimDueExports,
  exportBacklog,
  markExportFailed,
  markExportSent,
} from './exports.ts';
import type { OrderRecord } from './order-record.ts';

export interface ExporterOptions {
  /** Where records are POSTed: the data platform's endpoint. */
  url: string;
  /** One send's bound; a send that takes longer is a failure and is tried again. */
  timeoutMs: number;
  /** Sends of one record before it is DEAD (an operator re-drives it). */
  attempts: number;
  /** The wait after the first failure, doubling up to `maxBackoffMs`. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** The pause between passes when nothing was due. */
  pollMs: number;
  batchSize: number;
}

/** A send the platform answered with a refusal that no retry changes (a 4xx but 408 and 429). */
export class RecordRefusedError extends Error {}

/**
 * After a failed attempt (the n-th): the wait before the next one, or null
 * when the record is DEAD — refused, or out of attempts.
 */
export function retryDelay(
  attempt: number,
  err: unknown,
  options: Pick<ExporterOptions, 'attempts' | 'firstBackoffMs' | 'maxBackoffMs'>,
): number | null {
  if (err instanceof RecordRefusedError || attempt >= options.attempts) return null;
  return Math.min(options.maxBackoffMs, options.firstBackoffMs * 2 ** Math.min(attempt - 1, 20));
}

/** The header the platform deduplicates on: one key per order, whoever sends it, however often. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const idempotencyKeyOf = (orderId: string) => `order-completed:${orderId}`;

/** POSTs one record; resolves when the platform took it (2xx, also for a duplicate). */
export async function sendRecord(url: string, record: OrderRecord, timeoutMs: number): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: idempotencyKeyOf(record.orderId) },
    body: JSON.stringify(record),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const what = `the data platform answered ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
    throw new RecordRefusedError(what);
  throw new Error(what);
}

const exportAttempts = defineCounter({
  name: 'order_export_attempts_total',
  help: 'Sends of completed orders to the data platform, by outcome (sent, retry, dead).',
  labelNames: ['outcome'] as const,
});

/** The queue as Prometheus sees it, read at scrape time (over the unsent rows' index only). */
function defineExportGauges(em: EntityManager): void {
  const read = () => exportBacklog(em);
  defineScrapedGauge({
    name: 'order_exports_unsent',
    help: 'Completed orders not yet taken by the data platform: PENDING (being tried) and DEAD (out of attempts or refused; re-drive them).',
    labelNames: ['status'],
    always: [{ status: 'PENDING' }, { status: 'DEAD' }],
    read: async () => (await read()).counts.map((c) => ({ labels: { status: c.status }, value: c.count })),
  });
  defineScrapedGauge({
    name: 'order_export_oldest_pending_age_seconds',
    help: 'Age of the oldest completed order still waiting for the data platform (0 when none waits).',
    read: async () => [{ value: (await read()).oldestPendingSeconds }],
  });
}

/**
 * Sends each queued record to the data platform, at least once: claims the
 * due ones, POSTs each with its order's idempotency key (a record sent twice
 * — a lease that ran out, a lost answer — is one record to a platform that
 * deduplicates), and marks it SENT, or due again after a backoff, or DEAD.
 * It runs beside the saga and never in it: an order completes whatever the
 * platform does; a platform away only grows the backlog.
 */
export class OrderExporter {
  private loop: { stop(): Promise<void> } | undefined;
  /** The last pass claimed a full batch: the next one starts at once. */
  private backlog = false;

  private readonly em: EntityManager;
  private readonly log: Logger;
  private readonly options: ExporterOptions;
  private readonly send: (record: OrderRecord) => Promise<void>;

  constructor(em: EntityManager, log: Logger, options: ExporterOptions) {
    this.em = em;
    this.log = log;
    this.options = options;
    this.send = (record) => sendRecord(options.url, record, options.timeoutMs);
    defineExportGauges(em);
  }

  start(): void {
    this.loop = runPeriodically(
      () => this.runOnce(),
      () => (this.backlog ? 0 : this.options.pollMs),
      (err) => this.log.warn({ err }, 'order export pass failed; the next pass retries'),
    );
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass: sends the due records side by side; answers how many the platform took. */
  async runOnce(): Promise<number> {
    const { batchSize, timeoutMs } = this.options;
    // The lease outlasts a send, so no other exporter sends the record meanwhile.
    const claimed = await claimDueExports(this.em, { limit: batchSize, leaseMs: 2 * timeoutMs + 1000 });
    this.backlog = claimed.length === batchSize;
    const sent = await Promise.all(claimed.map((row) => this.export(row)));
    return sent.filter(Boolean).length;
  }

  private async export(row: ClaimedExport): Promise<boolean> {
    try {
      await this.send(row.record);
    } catch (err) {
      const retryInMs = retryDelay(row.attempts, err, this.options);
      await markExportFailed(this.em, row.orderId, (err as Error).message, retryInMs);
      exportAttempts.inc({ outcome: retryInMs === null ? 'dead' : 'retry' });
      const fields = { err, orderId: row.orderId, attempt: row.attempts, retryInMs };
      if (retryInMs === null)
        this.log.error(fields, 'order export is DEAD: re-drive it once the cause is fixed');
      else this.log.warn(fields, 'order export failed; will retry');
      return false;
    }
    await markExportSent(this.em, row.orderId);
    exportAttempts.inc({ outcome: 'sent' });
    return true;
  }
}
