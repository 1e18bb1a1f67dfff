import {
  addManyToOutbox,
  anyUuid,
  type EntityManager,
  jsonRecordset,
  type Logger,
  newEvent,
  uuidv7,
} from '@shop/platform';
import { sql } from 'kysely';
import type { ClaimBatchInput, ClaimDecision } from '../actors/coupon-quota.actor.ts';
import { type CouponDefinitions, windowState } from '../coupons/coupons.ts';
import { db } from '../db/entities.ts';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';
import {
  type IssueRequest,
  REQUEST_COLUMNS,
  type RejectReason,
  type RequestRow,
  type RequestStatus,
  type RequestStatusCache,
  toRequest,
} from './requests.ts';

export interface IssueWorkerOptions {
  /**
   * This worker's name, stable across a restart of the same replica (host and
   * port): on start it takes back at once the requests its previous life held.
   */
  workerId: string;
  /** Requests one batch takes at most: one actor turn and one transaction decide them all. */
  batchSize: number;
  /** Batches this replica has in flight at once (one can be at the actor while the next is taken). */
  concurrency: number;
  /** How long a worker holds a batch before another replica may take its requests (longer than one actor call). */
  leaseMs: number;
  /** How often to look for requests without being woken: another replica's, a dead worker's, a failed attempt. */
  pollMs: number;
}

export interface IssueWorkerDeps {
  em: EntityManager;
  statuses: RequestStatusCache;
  coupons: CouponDefinitions;
  /** The quota actor's `claimBatch`: decisions in the order of the claims, the same again for the same requests. */
  claimQuota: (couponId: string, batch: ClaimBatchInput) => Promise<ClaimDecision[]>;
  outboxWritten: () => void;
  log: Logger;
}

type Decision = ClaimDecision | { accepted: false; reason: 'NOT_STARTED' | 'EXPIRED' };

/**
 * Takes up to `limit` requests nobody holds, oldest first, for this batch: one
 * statement, its own short transaction (SKIP LOCKED lets replicas take side
 * by side). A request whose holder's lease ran out is taken again.
 */
function take(
  em: EntityManager,
  batch: { batchId: string; workerId: string; leaseMs: number; limit: number },
): Promise<RequestRow[]> {
  return db(em)
    .updateTable('issue_requests as r')
    .set((eb) => ({
      status: 'PROCESSING',
      batch_id: batch.batchId,
      taken_by: batch.workerId,
      lease_until: sql`now() + ${batch.leaseMs} * interval '1 millisecond'`,
      claimed_at: eb.fn.coalesce('r.claimed_at', sql<Date>`clock_timestamp()`),
      updated_at: sql`now()`,
    }))
    .where('r.id', 'in', (eb) =>
      eb
        .selectFrom('issue_requests')
        .select('id')
        .where((w) =>
          w.or([
            w('status', '=', 'QUEUED'),
            w.and([w('status', '=', 'PROCESSING'), w('lease_until', '<', sql<Date>`now()`)]),
          ]),
        )
        .orderBy('created_at')
        .limit(batch.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(REQUEST_COLUMNS)
    .execute();
}

/**
 * Decides accepted requests in batches, straight from `issue_requests` (the
 * durable queue the 202 wrote to), in three steps, none of which holds a lock
 * or a transaction across a network call:
 * 1. take a batch: one statement marks up to `batchSize` requests PROCESSING
 *    under a new batch id, with a lease;
 * 2. ask the quota actor once per coupon in the batch (one turn decides all of
 *    its claims, in order), with no transaction open;
 * 3. one short transaction records the batch, for the requests still held by
 *    this batch (the first to finish wins): it takes the seats of the quota in
 *    Postgres (`issued` ≤ `quota`, the last word: the actor is the fast gate),
 *    writes the user_coupons rows, the final states and the events.
 * Redis is told each state only after the commit that made it. A crash
 * anywhere leaves the requests QUEUED or PROCESSING in Postgres, where any
 * replica takes them again once the lease has run out and asks the actor
 * again, which answers the same for the same requests.
 */
export class IssueWorker {
  private active = 0;
  /** Someone said there may be work (a request was accepted here, the poll timer); cleared when a batch starts. */
  private wanted = false;
  /** After a failed batch, wait for the poll timer rather than hammer a sidecar or database that is away. */
  private backoffUntil = 0;
  private started = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private onIdle: (() => void) | undefined;

  private readonly deps: IssueWorkerDeps;
  private readonly options: IssueWorkerOptions;

  constructor(deps: IssueWorkerDeps, options: IssueWorkerOptions) {
    this.deps = deps;
    this.options = options;
  }

  /**
   * Starts the periodic look for work; `wake` starts a batch without waiting
   * for it. What this worker held before a crash (same host and port: the
   * process that held it is gone) is freed at once rather than when its leases
   * run out, seconds later.
   */
  async start(): Promise<void> {
    this.started = true;
    this.schedulePoll();
    const freed = await db(this.deps.em.fork())
      .updateTable('issue_requests')
      .set({ lease_until: sql`now()` })
      .where('status', '=', 'PROCESSING')
      .where('taken_by', '=', this.options.workerId)
      .where('lease_until', '>', sql<Date>`now()`)
      .returning('id')
      .execute()
      .catch((err) => {
        this.deps.log.warn(
          { err },
          'could not free the requests held before a restart; their leases will run out',
        );
        return [];
      });
    if (freed.length > 0)
      this.deps.log.info({ freed: freed.length }, 'took back the requests held before a restart');
    this.wake();
  }

  /** Stops taking batches and waits for those under way; the rest stays in Postgres for any replica. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.active > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
  }

  /** There is work (a request was just accepted here): take a batch as soon as a slot is free. */
  wake(): void {
    if (!this.started) return;
    this.wanted = true;
    if (performance.now() >= this.backoffUntil) this.pump();
  }

  /** Takes and decides one batch now; returns how many requests it took. Exposed for tests. */
  sweep(): Promise<number> {
    return this.runBatch();
  }

  private schedulePoll(): void {
    this.timer = setTimeout(() => {
      this.backoffUntil = 0;
      this.wake();
      if (!this.stopping) this.schedulePoll();
    }, this.options.pollMs);
  }

  private pump(): void {
    while (!this.stopping && this.wanted && this.active < this.options.concurrency) {
      this.wanted = false;
      this.active += 1;
      void this.runBatch()
        .then((taken) => {
          // A full batch: there is probably more.
          if (taken === this.options.batchSize) this.wanted = true;
        })
        .catch((err) => {
          this.backoffUntil = performance.now() + this.options.pollMs;
          this.deps.log.warn({ err }, 'coupon requests not decided yet; they will be taken again');
        })
        .finally(() => {
          this.active -= 1;
          if (this.active === 0) this.onIdle?.();
          if (performance.now() >= this.backoffUntil) this.pump();
        });
    }
  }

  private async runBatch(): Promise<number> {
    const batchId = uuidv7();
    const em = this.deps.em.fork();
    const rows = await take(em, {
      batchId,
      workerId: this.options.workerId,
      leaseMs: this.options.leaseMs,
      limit: this.options.batchSize,
    });
    if (rows.length === 0) return 0;
    rows.sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime());
    const requests = rows.map(toRequest);
    await this.deps.statuses.putMany(requests);
    try {
      const byCoupon = Map.groupBy(rows, (r) => r.coupon_id);
      await Promise.all(
        [...byCoupon].map(async ([couponId, couponRows]) => {
          const decisions = await this.judge(em, couponId, couponRows);
          await this.record(couponId, batchId, couponRows, decisions);
        }),
      );
    } catch (err) {
      // Give the lease back, so that the next look retries them instead of waiting it out.
      await db(em)
        .updateTable('issue_requests')
        .set({ lease_until: sql`now()` })
        .where('batch_id', '=', batchId)
        .where('status', '=', 'PROCESSING')
        .execute()
        .catch(() => undefined);
      throw err;
    }
    return rows.length;
  }

  private async judge(em: EntityManager, couponId: string, rows: RequestRow[]): Promise<Decision[]> {
    const coupon = await this.deps.coupons.find(em, couponId);
    if (!coupon) throw new Error(`coupon ${couponId} of ${rows.length} requests does not exist`);
    // The window is judged at the time the user asked, not when the worker got to it.
    const windows = rows.map((r) => windowState(coupon, new Date(r.created_at)));
    const open = rows.filter((_, i) => windows[i] === 'OPEN');
    const claimed =
      open.length === 0
        ? []
        : await this.deps.claimQuota(coupon.id, {
            quota: coupon.quota,
            claims: open.map((r) => ({ requestId: r.id, userId: r.user_id })),
          });
    let next = 0;
    return windows.map((w): Decision => (w === 'OPEN' ? claimed[next++]! : { accepted: false, reason: w }));
  }

  /**
   * One transaction for the batch's requests of one coupon. The seats go to
   * the accepted requests in the order they were made; a request another
   * worker took over or decided meanwhile is left to it.
   */
  private async record(
    couponId: string,
    batchId: string,
    rows: RequestRow[],
    decisions: Decision[],
  ): Promise<void> {
    const decided = await this.deps.em.fork().transactional(async (tx) => {
      const held = new Set(
        (
          await db(tx)
            .selectFrom('issue_requests')
            .select('id')
            .where('id', '=', anyUuid(rows.map((r) => r.id)))
            .where('status', '=', 'PROCESSING')
            .where('batch_id', '=', batchId)
            .forUpdate()
            .execute()
        ).map((r) => r.id),
      );
      const ours = rows.map((row, i) => ({ row, decision: decisions[i]! })).filter((d) => held.has(d.row.id));
      if (ours.length === 0) return [];
      const seats = await db(tx)
        .selectFrom('coupons')
        .select(['quota', 'issued'])
        .where('id', '=', couponId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      // The actor said yes; Postgres takes the seats, or the coupon is sold out after all.
      const wanting = ours.filter((d) => d.decision.accepted);
      const free = Math.max(seats.quota - seats.issued, 0);
      const { seated, holders } = await this.seat(tx, couponId, wanting, free);
      if (seated.size > 0)
        await db(tx)
          .updateTable('coupons')
          .set((eb) => ({ issued: eb('issued', '+', seated.size) }))
          .where('id', '=', couponId)
          .execute();

      const outcome = ours.map(({ row, decision }) => {
        const reason: RejectReason | null = seated.has(row.id)
          ? null
          : decision.accepted
            ? holders.has(row.user_id)
              ? 'ALREADY_ISSUED'
              : 'SOLD_OUT'
            : decision.reason;
        return { row, status: reason ? ('REJECTED' as const) : ('COMPLETED' as const), reason };
      });
      const updated = await db(tx)
        .updateTable('issue_requests as r')
        .from(
          jsonRecordset<{ id: string; status: RequestStatus; reason: RejectReason | null }, 'd'>(
            'd',
            { id: 'uuid', status: 'text', reason: 'text' },
            outcome.map((o) => ({ id: o.row.id, status: o.status, reason: o.reason })),
          ),
        )
        .set((eb) => ({
          status: eb.ref('d.status'),
          reason: eb.ref('d.reason'),
          lease_until: null,
          updated_at: sql`now()`,
        }))
        .whereRef('r.id', '=', 'd.id')
        .returning(['r.id', 'r.updated_at'])
        .execute();
      const updatedAt = new Map(updated.map((u) => [u.id, new Date(u.updated_at).toISOString()]));
      await addManyToOutbox(
        tx,
        outcome.map(({ row, status, reason }) =>
          newEvent({
            topic: COUPON_EVENTS,
            type: status === 'COMPLETED' ? CouponEventType.CouponIssued : CouponEventType.CouponIssueRejected,
            source: 'coupon',
            subject: row.id,
            data: { requestId: row.id, couponId, userId: row.user_id, ...(reason ? { reason } : {}) },
          }),
        ),
      );
      return outcome.map(
        ({ row, status, reason }): IssueRequest => ({
          ...toRequest(row),
          status,
          reason,
          updatedAt: updatedAt.get(row.id)!,
        }),
      );
    });
    if (decided.length === 0) return;
    this.deps.outboxWritten();
    await this.deps.statuses.putMany(decided);
  }

  /**
   * Writes the user_coupons rows of the first `free` accepted requests, in
   * order. A user who already holds the coupon (possible only when two
   * activations of the actor overlapped) is skipped, and the seat goes to the
   * next request. Returns the seated request ids and the users found to hold it already.
   */
  private async seat(
    tx: EntityManager,
    couponId: string,
    wanting: { row: RequestRow }[],
    free: number,
  ): Promise<{ seated: Set<string>; holders: Set<string> }> {
    const seated = new Set<string>();
    const holders = new Set<string>();
    let next = 0;
    while (seated.size < free && next < wanting.length) {
      const chunk = wanting.slice(next, next + (free - seated.size)).map((w) => w.row);
      next += chunk.length;
      const inserted = await db(tx)
        .insertInto('user_coupons')
        .values(
          chunk.map((r) => ({
            id: uuidv7(),
            coupon_id: couponId,
            user_id: r.user_id,
            request_id: r.id,
            status: 'ISSUED' as const,
          })),
        )
        .onConflict((oc) => oc.columns(['coupon_id', 'user_id']).doNothing())
        .returning('request_id')
        .execute();
      const got = new Set(inserted.map((i) => i.request_id));
      for (const r of chunk) {
        if (got.has(r.id)) seated.add(r.id);
        else holders.add(r.user_id);
      }
    }
    return { seated, holders };
  }
}
