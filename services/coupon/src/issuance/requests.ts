import {
  type EntityManager,
  jsonRecordset,
  NotFoundError,
  type Redis,
  type TokenBuckets,
  uuidv7,
} from '@shop/platform';
import { sql } from 'kysely';
import type { CouponDefinitions } from '../coupons/coupons.ts';
import { db, type RejectReason, type RequestStatus } from '../db/entities.ts';
import { RateLimitedError, UnknownUserError } from './issue.errors.ts';

export type { RejectReason, RequestStatus };
export const isTerminal = (s: RequestStatus) => s === 'COMPLETED' || s === 'REJECTED';

export interface IssueRequest {
  requestId: string;
  couponId: string;
  userId: string;
  status: RequestStatus;
  reason: RejectReason | null;
  updatedAt: string;
}

/**
 * A request as the set-based statements return it: Kysely's rows, the table's
 * own column names; times come as the driver gives them (MikroORM keeps
 * timestamps as strings), whatever the inferred type says.
 */
export interface RequestRow {
  id: string;
  coupon_id: string;
  user_id: string;
  status: RequestStatus;
  reason: RejectReason | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The columns a RequestRow is read from, for every statement that returns requests. */
export const REQUEST_COLUMNS = [
  'id',
  'coupon_id',
  'user_id',
  'status',
  'reason',
  'created_at',
  'updated_at',
] as const;

export const toRequest = (r: RequestRow): IssueRequest => ({
  requestId: r.id,
  couponId: r.coupon_id,
  userId: r.user_id,
  status: r.status,
  reason: r.reason,
  updatedAt: new Date(r.updated_at).toISOString(),
});

/**
 * Only moves a status forward (QUEUED, PROCESSING, then a final state), so a
 * late write from a slow worker cannot hide a decision already shown.
 * KEYS[1]: the key; ARGV: the JSON, its status, its TTL in seconds.
 */
const PUT_IF_NOT_BEHIND = `
local rank = { QUEUED = 0, PROCESSING = 1, COMPLETED = 2, REJECTED = 2 }
local current = redis.call('GET', KEYS[1])
if current and rank[cjson.decode(current).status] > rank[ARGV[2]] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`;

/** A final state never changes; a pending one is kept briefly, so that one whose successor was committed but never cached (a crash between the two) is soon read from Postgres again. */
const FINAL_TTL_S = 86_400;
const PENDING_TTL_S = 2;

/**
 * Each request's latest state in Redis, for fast polling and the SSE stream.
 * It is derived: written only after the Postgres commit it describes, and
 * rebuilt from Postgres (the durable truth) when missing.
 */
export class RequestStatusCache {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  private key = (id: string) => `coupon-request:${id}`;

  async put(request: IssueRequest): Promise<void> {
    const ttl = isTerminal(request.status) ? FINAL_TTL_S : PENDING_TTL_S;
    // Best effort: Postgres has it anyway.
    await this.redis
      .eval(PUT_IF_NOT_BEHIND, 1, this.key(request.requestId), JSON.stringify(request), request.status, ttl)
      .catch(() => undefined);
  }

  /** Several states in one round trip to Redis (a pipeline), e.g. a batch's decisions. */
  async putMany(requests: IssueRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const r of requests)
      pipeline.eval(
        PUT_IF_NOT_BEHIND,
        1,
        this.key(r.requestId),
        JSON.stringify(r),
        r.status,
        isTerminal(r.status) ? FINAL_TTL_S : PENDING_TTL_S,
      );
    await pipeline.exec().catch(() => undefined);
  }

  async get(id: string): Promise<IssueRequest | undefined> {
    const cached = await this.redis.get(this.key(id)).catch(() => null);
    return cached ? (JSON.parse(cached) as IssueRequest) : undefined;
  }
}

/**
 * One statement for a whole group of requests: each row is inserted only if
 * its user is known (the others come back missing: 422). A single statement
 * is atomic, so there is no transaction to open; the rows are the queue the
 * worker takes from.
 */
function insertKnown(
  em: EntityManager,
  group: { id: string; coupon_id: string; user_id: string }[],
): Promise<RequestRow[]> {
  return db(em)
    .insertInto('issue_requests')
    .columns(['id', 'coupon_id', 'user_id', 'status'])
    .expression((eb) =>
      eb
        .selectFrom(jsonRecordset('r', { id: 'uuid', coupon_id: 'uuid', user_id: 'uuid' }, group))
        .select(['r.id', 'r.coupon_id', 'r.user_id', sql.lit('QUEUED').as('status')])
        .where(({ exists, selectFrom }) =>
          exists(selectFrom('known_users as k').select('k.user_id').whereRef('k.user_id', '=', 'r.user_id')),
        ),
    )
    .returning(REQUEST_COLUMNS)
    .execute();
}

export interface IssueIntakeOptions {
  /** How long the first request of a group waits for others before the group is written. */
  windowMs: number;
  /** A group this large is written at once. */
  maxBatch: number;
}

/** Group inserts committing at once (see `schedule`). */
const MAX_WRITES_IN_FLIGHT = 2;

interface Waiting {
  requestId: string;
  couponId: string;
  userId: string;
  resolve: (request: IssueRequest) => void;
  reject: (err: unknown) => void;
}

/**
 * Accepts requests to issue a coupon with group commit: the requests that
 * arrive within a few milliseconds are written together, one multi-row insert,
 * and each is answered 202 only once that insert has committed, so an accepted
 * request is never lost. The decision comes later, from the worker and the
 * quota actor. Under a spike a group holds tens to hundreds of requests, and
 * the per-request cost of the durable write is a small share of one statement.
 */
export class IssueIntake {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;

  private readonly deps: {
    em: EntityManager;
    coupons: CouponDefinitions;
    /** Per user: one user's flood takes no capacity from the others (answered 429 at once). */
    perUser: TokenBuckets;
    /** Called after a group committed: the worker may take them. */
    accepted: () => void;
  };
  private readonly options: IssueIntakeOptions;

  constructor(deps: IssueIntake['deps'], options: IssueIntakeOptions) {
    this.deps = deps;
    this.options = options;
  }

  async request(couponId: string, userId: string): Promise<IssueRequest> {
    if (!(await this.deps.coupons.find(this.deps.em, couponId))) throw new NotFoundError('coupon', couponId);
    const wait = this.deps.perUser.take(userId);
    if (wait > 0) throw new RateLimitedError(wait);
    return new Promise<IssueRequest>((resolve, reject) => {
      this.waiting.push({ requestId: uuidv7(), couponId, userId, resolve, reject });
      this.schedule();
    });
  }

  /**
   * A group is written when it is full or its window has passed, but never
   * more than `MAX_WRITES_IN_FLIGHT` at once: while they commit, the next group
   * fills up. Under load a group thus holds what arrived during one commit
   * (each commit is a WAL flush), and the number of commits a second stays
   * about the same however many requests come.
   */
  private schedule(): void {
    if (this.waiting.length === 0 || this.inFlight >= MAX_WRITES_IN_FLIGHT) return;
    if (this.waiting.length >= this.options.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight >= MAX_WRITES_IN_FLIGHT) return;
    const group = this.waiting.splice(0, this.options.maxBatch);
    if (group.length === 0) return;
    this.inFlight += 1;
    void this.write(group).finally(() => {
      this.inFlight -= 1;
      this.schedule();
    });
  }

  /** The group's insert (one statement); each request gets its own answer. */
  private async write(group: Waiting[]): Promise<void> {
    try {
      const rows = await insertKnown(
        this.deps.em.fork(),
        group.map((w) => ({ id: w.requestId, coupon_id: w.couponId, user_id: w.userId })),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      if (rows.length > 0) this.deps.accepted();
      for (const w of group) {
        const row = byId.get(w.requestId);
        if (row) w.resolve(toRequest(row));
        else w.reject(new UnknownUserError(w.userId));
      }
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  }
}

export async function getRequest(
  em: EntityManager,
  statuses: RequestStatusCache,
  id: string,
): Promise<IssueRequest> {
  const cached = await statuses.get(id);
  if (cached) return cached;
  const row = await db(em.fork())
    .selectFrom('issue_requests')
    .select(REQUEST_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('coupon request', id);
  const request = toRequest(row);
  await statuses.put(request);
  return request;
}
