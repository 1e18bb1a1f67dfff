import { UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  type EntityManager,
  IdempotencyKeyReusedError,
  NotFoundError,
  requestFingerprint,
  uuidv7,
  withDriverErrors,
} from '@shop/platform';
import { type Selectable, sql } from 'kysely';
import { db, type OrderDb, type TopUpStatus } from '../db/entities.ts';

export type { TopUpStatus };

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

type TopUpRow = Selectable<OrderDb['top_ups']>;

const toView = (r: TopUpRow): TopUpView => ({
  topUpId: r.id,
  userId: r.user_id,
  // bigint comes from the driver as a string.
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
    const existing = await db(em.fork())
      .selectFrom('top_ups')
      .selectAll()
      .where('user_id', '=', input.userId)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    if (existing) {
      if (existing.request_hash !== requestHash) throw new IdempotencyKeyReusedError(idempotencyKey);
      return { topUp: toView(existing), created: false };
    }
  }
  try {
    const row = await withDriverErrors(em, () =>
      db(em.fork())
        .insertInto('top_ups')
        .values({
          id: uuidv7(),
          user_id: input.userId,
          amount: input.amount,
          status: 'PENDING',
          idempotency_key: idempotencyKey ?? null,
          request_hash: requestHash,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return { topUp: toView(row), created: true };
  } catch (err) {
    // The same key sent twice at once: the unique index decides, the loser answers as a repeat.
    if (idempotencyKey && err instanceof UniqueConstraintViolationException) {
      return createTopUp(em, input, idempotencyKey);
    }
    throw err;
  }
}

export async function getTopUp(em: EntityManager, topUpId: string): Promise<TopUpView> {
  const row = await db(em.fork())
    .selectFrom('top_ups')
    .selectAll()
    .where('id', '=', topUpId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('top-up', topUpId);
  return toView(row);
}

export async function listUserTopUps(em: EntityManager, userId: string, limit = 50): Promise<TopUpView[]> {
  const rows = await db(em.fork())
    .selectFrom('top_ups')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toView);
}

/** Operations: top-ups in one status, newest first (NEEDS_ATTENTION: paid, and the points refused). */
export async function listTopUpsByStatus(
  em: EntityManager,
  status: TopUpStatus,
  limit = 100,
): Promise<TopUpView[]> {
  const rows = await db(em.fork())
    .selectFrom('top_ups')
    .selectAll()
    .where('status', '=', status)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toView);
}

/** How many top-ups are in each status (the `top_ups` gauge). */
export async function countTopUpsByStatus(
  em: EntityManager,
): Promise<{ status: TopUpStatus; count: number }[]> {
  const rows = await db(em.fork())
    .selectFrom('top_ups')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  return rows.map((r) => ({ status: r.status, count: r.n }));
}

/** PENDING top-ups older than `olderThanMs`: the reconciler schedules those whose workflow never started. */
export async function pendingTopUps(
  em: EntityManager,
  olderThanMs: number,
  limit: number,
): Promise<TopUpView[]> {
  const rows = await db(em.fork())
    .selectFrom('top_ups')
    .selectAll()
    .where('status', '=', 'PENDING')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map(toView);
}

/** Ends a top-up once: its first ending stays. */
export async function finishTopUp(
  em: EntityManager,
  topUpId: string,
  status: Exclude<TopUpStatus, 'PENDING'>,
  reason?: string,
): Promise<void> {
  await db(em.fork())
    .updateTable('top_ups')
    .set({ status, failure_reason: reason ?? null, updated_at: sql`now()` })
    .where('id', '=', topUpId)
    .where('status', '=', 'PENDING')
    .execute();
}
