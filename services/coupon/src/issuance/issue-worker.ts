import { addToOutbox, type EntityManager, type Logger, newEvent, uuidv7 } from '@shop/platform';
import type { ClaimDecision, ClaimInput } from '../actors/coupon-quota.actor.ts';
import { findCoupon, windowState } from '../coupons/coupons.ts';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';
import { type IssueRequest, type RequestRow, type RequestStatusCache, toRequest } from './requests.ts';

export interface IssueWorkerOptions {
  /** Requests this replica decides at once; each holds at most one database connection, never while it waits on the actor. */
  concurrency: number;
  /** How long a worker holds a request before another replica may take it (longer than one actor call). */
  leaseMs: number;
  /** How often to look for requests left behind: a worker that died, a failed attempt, an event that never came. */
  sweepMs: number;
}

export interface IssueWorkerDeps {
  em: EntityManager;
  statuses: RequestStatusCache;
  /** The quota actor's `claim`: idempotent per request id, so asking again after a crash is safe. */
  claimQuota: (couponId: string, claim: ClaimInput) => Promise<ClaimDecision>;
  outboxWritten: () => void;
  log: Logger;
}

type Decision = ClaimDecision | { accepted: false; reason: 'NOT_STARTED' | 'EXPIRED' };

const SWEEP_BATCH = 100;

/**
 * Decides accepted requests in three steps, none of which holds a lock or a
 * transaction across a network call:
 * 1. take the request: one statement marks it PROCESSING with a lease;
 * 2. ask the quota actor (no transaction open);
 * 3. one short transaction takes a seat of the quota in Postgres (the last
 *    word: the actor is the fast gate), writes the user_coupons row, the
 *    final state and the event, if the request is still PROCESSING (the
 *    first to finish wins).
 * Redis is told each state only after the commit that made it. A crash
 * anywhere leaves the request QUEUED or PROCESSING in Postgres, where any
 * replica's sweep finds it once the lease has run out and asks the actor
 * again, which answers the same for the same request id.
 */
export class IssueWorker {
  private readonly queue: string[] = [];
  /** Queued or being decided here, so that a redelivery or a sweep does not add it twice. */
  private readonly pending = new Set<string>();
  private active = 0;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private onIdle: (() => void) | undefined;

  private readonly deps: IssueWorkerDeps;
  private readonly options: IssueWorkerOptions;

  constructor(deps: IssueWorkerDeps, options: IssueWorkerOptions) {
    this.deps = deps;
    this.options = options;
  }

  /** Starts the periodic sweep; requests handed over with `enqueue` are decided without it. */
  start(): void {
    this.scheduleSweep();
  }

  /** Stops sweeping and waits for the decisions under way; what is still queued stays in Postgres for the sweep. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
    if (this.active > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
  }

  enqueue(requestId: string): void {
    if (this.stopping || this.pending.has(requestId)) return;
    this.pending.add(requestId);
    this.queue.push(requestId);
    this.pump();
  }

  /** Queues requests nobody is working on; returns how many it found. */
  async sweep(): Promise<number> {
    const rows = await this.deps.em.fork().execute<{ id: string }[]>(
      `select id from issue_requests
       where (status = 'QUEUED' and created_at < now() - ? * interval '1 millisecond')
          or (status = 'PROCESSING' and lease_until < now())
       order by created_at limit ?`,
      [this.options.leaseMs, SWEEP_BATCH],
    );
    for (const { id } of rows) this.enqueue(id);
    return rows.length;
  }

  private scheduleSweep(): void {
    this.timer = setTimeout(() => {
      this.sweep()
        .catch((err) => this.deps.log.warn({ err }, 'could not look for undecided coupon requests'))
        .finally(() => {
          if (!this.stopping) this.scheduleSweep();
        });
    }, this.options.sweepMs);
  }

  private pump(): void {
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const requestId = this.queue.shift()!;
      this.active += 1;
      void this.decide(requestId)
        .catch((err) =>
          this.deps.log.warn({ err, requestId }, 'coupon request not decided yet; the sweep will retry it'),
        )
        .finally(() => {
          this.active -= 1;
          this.pending.delete(requestId);
          if (this.active === 0) this.onIdle?.();
          this.pump();
        });
    }
  }

  private async decide(requestId: string): Promise<void> {
    const em = this.deps.em.fork();
    const [row] = await em.execute<RequestRow[]>(
      `update issue_requests
       set status = 'PROCESSING', lease_until = now() + ? * interval '1 millisecond', updated_at = now()
       where id = ? and status in ('QUEUED', 'PROCESSING') and (lease_until is null or lease_until < now())
       returning *`,
      [this.options.leaseMs, requestId],
    );
    if (!row) return; // decided already, or another worker holds it
    await this.deps.statuses.put(toRequest(row));
    try {
      const decision = await this.judge(em, row);
      await this.finish(toRequest(row), decision);
    } catch (err) {
      // Give the lease back, so that the next sweep retries it instead of waiting it out.
      await em
        .execute("update issue_requests set lease_until = now() where id = ? and status = 'PROCESSING'", [
          requestId,
        ])
        .catch(() => undefined);
      throw err;
    }
  }

  private async judge(em: EntityManager, row: RequestRow): Promise<Decision> {
    const coupon = await findCoupon(em, row.coupon_id);
    if (!coupon) throw new Error(`coupon ${row.coupon_id} of request ${row.id} does not exist`);
    // The window is judged at the time the user asked, not when the worker got to it.
    const window = windowState(coupon, new Date(row.created_at));
    if (window !== 'OPEN') return { accepted: false, reason: window };
    return this.deps.claimQuota(coupon.id, { requestId: row.id, userId: row.user_id, quota: coupon.quota });
  }

  private async finish(request: IssueRequest, decision: Decision): Promise<void> {
    const { requestId, couponId, userId } = request;
    const written = await this.deps.em
      .fork()
      .transactional(async (tx) => {
        // The actor said yes; Postgres takes the seat atomically, or the coupon is sold out after all.
        const seated =
          decision.accepted &&
          (
            await tx.execute(
              'update coupons set issued = issued + 1 where id = ? and issued < quota returning id',
              [couponId],
            )
          ).length === 1;
        const reason = seated ? null : decision.accepted ? 'SOLD_OUT' : decision.reason;
        const status = seated ? 'COMPLETED' : 'REJECTED';
        const [updated] = await tx.execute<{ updated_at: string }[]>(
          `update issue_requests set status = ?, reason = ?, lease_until = null, updated_at = now()
           where id = ? and status = 'PROCESSING' returning updated_at`,
          [status, reason, requestId],
        );
        // Another worker finished it first (with the same answer from the actor): undo the seat.
        if (!updated) throw new AlreadyDecided();
        if (seated) {
          await tx.execute(
            "insert into user_coupons (id, coupon_id, user_id, request_id, status) values (?, ?, ?, ?, 'ISSUED')",
            [uuidv7(), couponId, userId, requestId],
          );
        }
        await addToOutbox(
          tx,
          newEvent({
            topic: COUPON_EVENTS,
            type: seated ? CouponEventType.CouponIssued : CouponEventType.CouponIssueRejected,
            source: 'coupon',
            subject: requestId,
            data: { requestId, couponId, userId, ...(reason ? { reason } : {}) },
          }),
        );
        return { status, reason, updatedAt: new Date(updated.updated_at).toISOString() } as const;
      })
      .catch((err) => {
        if (err instanceof AlreadyDecided) return undefined;
        throw err;
      });
    if (!written) return;
    this.deps.outboxWritten();
    await this.deps.statuses.put({ ...request, ...written });
  }
}

class AlreadyDecided extends Error {}
