import { addToOutbox, type EntityManager, NotFoundError, newEvent, type Redis, uuidv7 } from '@shop/platform';
import { findCoupon } from '../coupons/coupons.ts';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';
import { RateLimitedError, UnknownUserError } from './issue.errors.ts';

export type RequestStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'REJECTED';
export type RejectReason = 'SOLD_OUT' | 'ALREADY_ISSUED' | 'NOT_STARTED' | 'EXPIRED';
export const isTerminal = (s: RequestStatus) => s === 'COMPLETED' || s === 'REJECTED';

export interface IssueRequest {
  requestId: string;
  couponId: string;
  userId: string;
  status: RequestStatus;
  reason: RejectReason | null;
  updatedAt: string;
}

export interface RequestRow {
  id: string;
  coupon_id: string;
  user_id: string;
  status: RequestStatus;
  reason: RejectReason | null;
  created_at: string;
  updated_at: string;
}

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

  async get(id: string): Promise<IssueRequest | undefined> {
    const cached = await this.redis.get(this.key(id)).catch(() => null);
    return cached ? (JSON.parse(cached) as IssueRequest) : undefined;
  }
}

export const MAX_REQUESTS_PER_USER_PER_SECOND = 5;

/** A fixed one-second window per user, so that one user's flood does not take capacity from others. */
async function checkRateLimit(redis: Redis, userId: string): Promise<void> {
  const key = `ratelimit:coupon-issue:${userId}:${Math.floor(Date.now() / 1000)}`;
  const [[, count]] = (await redis.multi().incr(key).expire(key, 2).exec()) as [
    [null, number],
    [null, number],
  ];
  if (count > MAX_REQUESTS_PER_USER_PER_SECOND) throw new RateLimitedError(1);
}

/**
 * Accepts a request to issue a coupon: recorded in Postgres with its event in
 * the outbox (one transaction) before the 202, so an accepted request is never
 * lost. The decision comes later, from the worker and the quota actor.
 */
export async function requestIssue(
  deps: { em: EntityManager; redis: Redis; statuses: RequestStatusCache },
  couponId: string,
  userId: string,
): Promise<IssueRequest> {
  if (!(await findCoupon(deps.em, couponId))) throw new NotFoundError('coupon', couponId);
  const [known] = await deps.em.fork().execute('select 1 from known_users where user_id = ?', [userId]);
  if (!known) throw new UnknownUserError(userId);
  await checkRateLimit(deps.redis, userId);

  const requestId = uuidv7();
  const row = await deps.em.fork().transactional(async (tx) => {
    const [inserted] = await tx.execute<RequestRow[]>(
      "insert into issue_requests (id, coupon_id, user_id, status) values (?, ?, ?, 'QUEUED') returning *",
      [requestId, couponId, userId],
    );
    await addToOutbox(
      tx,
      newEvent({
        topic: COUPON_EVENTS,
        type: CouponEventType.CouponIssueRequested,
        source: 'coupon',
        subject: requestId,
        data: { requestId, couponId, userId },
      }),
    );
    return inserted!;
  });
  const request = toRequest(row);
  await deps.statuses.put(request);
  return request;
}

export async function getRequest(
  em: EntityManager,
  statuses: RequestStatusCache,
  id: string,
): Promise<IssueRequest> {
  const cached = await statuses.get(id);
  if (cached) return cached;
  const [row] = await em.fork().execute<RequestRow[]>('select * from issue_requests where id = ?', [id]);
  if (!row) throw new NotFoundError('coupon request', id);
  const request = toRequest(row);
  await statuses.put(request);
  return request;
}
