import { UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  type EntityManager,
  IdempotencyKeyReusedError,
  NotFoundError,
  requestFingerprint,
  uuidv7,
} from '@shop/platform';

export type TopUpStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

export interface TopUpView {
  topUpId: string;
  userId: string;
  /** Points bought, paid for 1 KRW each. */
  amount: number;
  status: TopUpStatus;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface TopUpRow {
  id: string;
  user_id: string;
  amount: string;
  status: TopUpStatus;
  failure_reason: string | null;
  request_hash: string | null;
  created_at: string;
  updated_at: string;
}

const toView = (r: TopUpRow): TopUpView => ({
  topUpId: r.id,
  userId: r.user_id,
  amount: Number(r.amount),
  status: r.status,
  failureReason: r.failure_reason,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/**
 * Records a top-up PENDING. With an idempotency key (the user's own), a
 * repeat of the same request returns the first top-up; the same key with
 * another amount is refused.
 */
export async function createTopUp(
  em: EntityManager,
  input: { userId: string; amount: number },
  idempotencyKey?: string,
): Promise<{ topUp: TopUpView; created: boolean }> {
  const requestHash = idempotencyKey ? requestFingerprint(input) : null;
  if (idempotencyKey) {
    const [existing] = await em
      .fork()
      .execute<TopUpRow[]>('select * from top_ups where user_id = ? and idempotency_key = ?', [
        input.userId,
        idempotencyKey,
      ]);
    if (existing) {
      if (existing.request_hash !== requestHash) throw new IdempotencyKeyReusedError(idempotencyKey);
      return { topUp: toView(existing), created: false };
    }
  }
  try {
    const [row] = await em.fork().execute<TopUpRow[]>(
      `insert into top_ups (id, user_id, amount, status, idempotency_key, request_hash)
       values (?, ?, ?, 'PENDING', ?, ?) returning *`,
      [uuidv7(), input.userId, input.amount, idempotencyKey ?? null, requestHash],
    );
    return { topUp: toView(row!), created: true };
  } catch (err) {
    // The same key sent twice at once: the unique index decides, the loser answers as a repeat.
    if (idempotencyKey && err instanceof UniqueConstraintViolationException) {
      return createTopUp(em, input, idempotencyKey);
    }
    throw err;
  }
}

export async function getTopUp(em: EntityManager, topUpId: string): Promise<TopUpView> {
  const [row] = await em.fork().execute<TopUpRow[]>('select * from top_ups where id = ?', [topUpId]);
  if (!row) throw new NotFoundError('top-up', topUpId);
  return toView(row);
}

export async function listUserTopUps(em: EntityManager, userId: string, limit = 50): Promise<TopUpView[]> {
  const rows = await em
    .fork()
    .execute<TopUpRow[]>('select * from top_ups where user_id = ? order by id desc limit ?', [userId, limit]);
  return rows.map(toView);
}

/** PENDING top-ups older than `olderThanMs`: the reconciler schedules those whose workflow never started. */
export async function pendingTopUps(
  em: EntityManager,
  olderThanMs: number,
  limit: number,
): Promise<TopUpView[]> {
  const rows = await em.fork().execute<TopUpRow[]>(
    `select * from top_ups where status = 'PENDING' and created_at < now() - make_interval(secs => ?)
     order by created_at limit ?`,
    [olderThanMs / 1000, limit],
  );
  return rows.map(toView);
}

/** Ends a top-up once: its first ending stays. */
export async function finishTopUp(
  em: EntityManager,
  topUpId: string,
  status: Exclude<TopUpStatus, 'PENDING'>,
  reason?: string,
): Promise<void> {
  await em
    .fork()
    .execute(
      "update top_ups set status = ?, failure_reason = ?, updated_at = now() where id = ? and status = 'PENDING'",
      [status, reason ?? null, topUpId],
    );
}
