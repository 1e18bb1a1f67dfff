import { type EntityManager, NotFoundError, type RetentionRule } from '@shop/platform';
import { sql } from 'kysely';
import { db, type ExportStatus } from '../db/entities.ts';
import type { OrderRecord } from './order-record.ts';

/**
 * The export queue (table order_exports): one row per completed order, its
 * record written once by the OrderCompleted consumer, sent by the exporter.
 * No transaction is held while a record is on the wire: a send claims its row
 * for a lease (next_attempt_at moves past the send's timeout), so a replica
 * that dies mid-send leaves the row to whichever exporter comes next.
 */

export interface ExportView {
  orderId: string;
  status: ExportStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  record: OrderRecord;
}

export interface ClaimedExport {
  orderId: string;
  attempts: number;
  record: OrderRecord;
}

/**
 * A record the platform took is kept `keepHours` (for GET /ops/exports/:orderId),
 * then the retention sweep deletes it; PENDING and DEAD ones have no sent_at and stay.
 */
export const sentExportsRetention = (keepHours: number): RetentionRule => ({
  table: 'order_exports',
  column: 'sent_at',
  keepHours,
});

/** Queues the record in the caller's transaction (the inbox's); a second one for the order is ignored. */
export async function enqueueExport(tx: EntityManager, record: OrderRecord): Promise<void> {
  await db(tx)
    .insertInto('order_exports')
    .values({ order_id: record.orderId, record /* pg sends an object as its JSON */ })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
}

/**
 * Claims up to `limit` due records, oldest due first, for `leaseMs`, and
 * counts the attempt. SKIP LOCKED: replicas claim side by side.
 */
export async function claimDueExports(
  em: EntityManager,
  batch: { limit: number; leaseMs: number },
): Promise<ClaimedExport[]> {
  const rows = await db(em.fork())
    .with('due', (q) =>
      q
        .selectFrom('order_exports')
        .select('order_id')
        .where('status', '=', 'PENDING')
        .where('next_attempt_at', '<=', sql<Date>`clock_timestamp()`)
        .orderBy('next_attempt_at')
        .limit(batch.limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('order_exports')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      next_attempt_at: sql`clock_timestamp() + ${batch.leaseMs} * interval '1 millisecond'`,
    }))
    .where('order_id', 'in', (eb) => eb.selectFrom('due').select('due.order_id'))
    .returning(['order_id', 'attempts', 'record'])
    .execute();
  return rows.map((r) => ({ orderId: r.order_id, attempts: r.attempts, record: r.record }));
}

export async function markExportSent(em: EntityManager, orderId: string): Promise<void> {
  await db(em.fork())
    .updateTable('order_exports')
    .set({ status: 'SENT', sent_at: sql`now()`, last_error: null })
    .where('order_id', '=', orderId)
    .execute();
}

/** A failed send: due again after `retryInMs`, or DEAD (null) until an operator re-drives it. */
export async function markExportFailed(
  em: EntityManager,
  orderId: string,
  error: string,
  retryInMs: number | null,
): Promise<void> {
  await db(em.fork())
    .updateTable('order_exports')
    .set({
      last_error: error.slice(0, 1000),
      ...(retryInMs === null
        ? { status: 'DEAD' }
        : { next_attempt_at: sql`clock_timestamp() + ${retryInMs} * interval '1 millisecond'` }),
    })
    .where('order_id', '=', orderId)
    .where('status', '=', 'PENDING')
    .execute();
}

const selectExports = (em: EntityManager) =>
  db(em.fork())
    .selectFrom('order_exports')
    .select([
      'order_id',
      'status',
      'attempts',
      'next_attempt_at',
      'last_error',
      'created_at',
      'sent_at',
      'record',
    ]);

type ExportRow = Awaited<ReturnType<ReturnType<typeof selectExports>['executeTakeFirstOrThrow']>>;

const iso = (at: Date | string | null) => (at === null ? null : new Date(at).toISOString());

const toView = (r: ExportRow): ExportView => ({
  orderId: r.order_id,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'PENDING' ? iso(r.next_attempt_at) : null,
  lastError: r.last_error,
  createdAt: iso(r.created_at)!,
  sentAt: iso(r.sent_at),
  record: r.record,
});

/** The export of one order; 404 when the order has none (not completed, or not consumed yet). */
export async function findExport(em: EntityManager, orderId: string): Promise<ExportView> {
  const row = await selectExports(em).where('order_id', '=', orderId).executeTakeFirst();
  if (!row) throw new NotFoundError('order export', orderId);
  return toView(row);
}

/** Exports in a status (all when none), newest first. */
export async function listExports(
  em: EntityManager,
  status: ExportStatus | undefined,
  limit: number,
): Promise<ExportView[]> {
  let q = selectExports(em).orderBy('created_at', 'desc').orderBy('order_id', 'desc').limit(limit);
  if (status) q = q.where('status', '=', status);
  return (await q.execute()).map(toView);
}

/** A DEAD export made due now with a fresh budget; one in another status is left as it is. */
export async function redriveExport(em: EntityManager, orderId: string): Promise<ExportView> {
  await db(em.fork())
    .updateTable('order_exports')
    .set({ status: 'PENDING', attempts: 0, next_attempt_at: sql`now()` })
    .where('order_id', '=', orderId)
    .where('status', '=', 'DEAD')
    .execute();
  return findExport(em, orderId);
}

/** Records not sent, per status, and the age of the oldest pending one, for /metrics (one statement). */
export async function exportBacklog(
  em: EntityManager,
): Promise<{ counts: { status: ExportStatus; count: number }[]; oldestPendingSeconds: number }> {
  const rows = await db(em.fork())
    .selectFrom('order_exports')
    .select([
      'status',
      sql<number>`count(*)::int`.as('n'),
      sql<number | null>`extract(epoch from now() - min(created_at))::float8`.as('oldest'),
    ])
    .where('status', 'in', ['PENDING', 'DEAD'])
    .groupBy('status')
    .execute();
  return {
    counts: rows.map((r) => ({ status: r.status, count: r.n })),
    oldestPendingSeconds: rows.find((r) => r.status === 'PENDING')?.oldest ?? 0,
  };
}
