import type { FilterQuery, InferEntity } from '@mikro-orm/core';
import {
  addToOutbox,
  type EntityManager,
  IdempotencyKeyReusedError,
  lockForTransaction,
  NotFoundError,
  newEvent,
  type Page,
  type PageQuery,
  requestFingerprint,
  uuidv7,
} from '@shop/platform';
import { sql } from 'kysely';
import { db, type LedgerKind, PointAccountEntity, PointLedgerEntity } from '../db/entities.ts';
import { USER_EVENTS, UserEventType } from '../events/topics.ts';
import { InsufficientPointsError, PointsAlreadyRefundedError } from './points.errors.ts';

export type { LedgerKind };

export interface LedgerEntry {
  id: string;
  userId: string;
  kind: LedgerKind;
  /** Signed: what the entry did to the balance. */
  amount: number;
  balanceAfter: number;
  orderId: string | null;
  topUpId: string | null;
  /** A grant's reason and who gave it. */
  reason: string | null;
  grantedBy: string | null;
  createdAt: string;
}

type LedgerRecord = InferEntity<typeof PointLedgerEntity>;

const toEntry = (r: LedgerRecord): LedgerEntry => ({
  id: r.id,
  userId: r.userId,
  kind: r.kind,
  amount: r.amount,
  balanceAfter: r.balanceAfter,
  orderId: r.orderId ?? null,
  topUpId: r.topUpId ?? null,
  reason: r.reason ?? null,
  grantedBy: r.grantedBy ?? null,
  createdAt: r.createdAt.toISOString(),
});

const eventType: Record<LedgerKind, string> = {
  CHARGE: UserEventType.PointsCharged,
  GRANT: UserEventType.PointsGranted,
  USE: UserEventType.PointsUsed,
  REFUND: UserEventType.PointsRefunded,
};

const findEntry = (tx: EntityManager, where: FilterQuery<LedgerRecord>) =>
  tx.findOne(PointLedgerEntity, where);

/**
 * Moves a balance and appends the ledger entry in one transaction, with the
 * event in the outbox. The balance changes only through a conditional update,
 * so concurrent deductions can never take it below zero.
 */
async function append(
  tx: EntityManager,
  entry: {
    userId: string;
    kind: LedgerKind;
    amount: number;
    key: string;
    orderId?: string;
    topUpId?: string;
    grant?: { reason: string; grantedBy: string };
    requestHash?: string;
  },
): Promise<LedgerEntry | undefined> {
  // One conditional statement (Kysely: em's updates return nothing): the balance never goes below zero.
  const account = await db(tx)
    .updateTable('point_accounts')
    .set((eb) => ({ balance: eb('balance', '+', entry.amount), updated_at: sql`now()` }))
    .where('user_id', '=', entry.userId)
    .where((eb) => eb(eb('balance', '+', entry.amount), '>=', 0))
    .returning('balance')
    .executeTakeFirst();
  if (!account) return undefined;
  const row: LedgerRecord = {
    id: uuidv7(),
    userId: entry.userId,
    kind: entry.kind,
    amount: entry.amount,
    balanceAfter: Number(account.balance),
    idempotencyKey: entry.key,
    requestHash: entry.requestHash ?? null,
    orderId: entry.orderId ?? null,
    topUpId: entry.topUpId ?? null,
    reason: entry.grant?.reason ?? null,
    grantedBy: entry.grant?.grantedBy ?? null,
    createdAt: new Date(),
  };
  await tx.insert(PointLedgerEntity, row);
  const created = toEntry(row);
  await addToOutbox(
    tx,
    newEvent({
      topic: USER_EVENTS,
      type: eventType[entry.kind],
      source: 'user',
      subject: entry.userId,
      data: {
        userId: entry.userId,
        ledgerEntryId: created.id,
        ...(entry.orderId ? { orderId: entry.orderId } : {}),
        ...(entry.topUpId ? { topUpId: entry.topUpId } : {}),
      },
    }),
  );
  return created;
}

async function balanceOf(tx: EntityManager, userId: string): Promise<number> {
  const account = await tx.findOne(PointAccountEntity, userId, { disableIdentityMap: true });
  if (!account) throw new NotFoundError('user', userId);
  return account.balance;
}

export async function getBalance(
  em: EntityManager,
  userId: string,
): Promise<{ userId: string; balance: number }> {
  return { userId, balance: await balanceOf(em.fork(), userId) };
}

export async function listLedger(
  em: EntityManager,
  userId: string,
  page: PageQuery,
): Promise<Page<LedgerEntry>> {
  const tx = em.fork();
  await balanceOf(tx, userId);
  const [rows, total] = await tx.findAndCount(
    PointLedgerEntity,
    { userId },
    { orderBy: { id: 'desc' }, limit: page.size, offset: (page.page - 1) * page.size },
  );
  return { items: rows.map(toEntry), page: page.page, size: page.size, total };
}

/**
 * Credits a paid top-up, once per top-up: called by the order service's
 * top-up workflow after the payment was captured, never before. A repeat
 * returns the first entry.
 */
export async function creditTopUp(
  em: EntityManager,
  input: { topUpId: string; userId: string; amount: number },
): Promise<LedgerEntry> {
  const key = `top-up:${input.topUpId}`;
  return em.fork().transactional(async (tx) => {
    await balanceOf(tx, input.userId);
    await lockForTransaction(tx, key);
    const previous = await findEntry(tx, { topUpId: input.topUpId });
    if (previous) return toEntry(previous);
    return (await append(tx, {
      userId: input.userId,
      kind: 'CHARGE',
      amount: input.amount,
      key,
      topUpId: input.topUpId,
    }))!;
  });
}

/**
 * Points an admin or an operator gives, with a reason and their id on the
 * entry. The idempotency key belongs to the one who grants: a repeat (same
 * key, user, amount and reason) returns the first entry; the same key for
 * another grant is refused.
 */
export async function grantPoints(
  em: EntityManager,
  input: { userId: string; amount: number; reason: string; grantedBy: string; idempotencyKey: string },
): Promise<LedgerEntry> {
  const key = `grant:${input.grantedBy}:${input.idempotencyKey}`;
  const requestHash = requestFingerprint({
    userId: input.userId,
    amount: input.amount,
    reason: input.reason,
  });
  return em.fork().transactional(async (tx) => {
    await balanceOf(tx, input.userId);
    // Serialises requests that carry the same key, so the first one wins cleanly.
    await lockForTransaction(tx, key);
    const previous = await findEntry(tx, { idempotencyKey: key });
    if (previous) {
      if (previous.requestHash !== requestHash) throw new IdempotencyKeyReusedError(input.idempotencyKey);
      return toEntry(previous);
    }
    return (await append(tx, {
      userId: input.userId,
      kind: 'GRANT',
      amount: input.amount,
      key,
      grant: { reason: input.reason, grantedBy: input.grantedBy },
      requestHash,
    }))!;
  });
}

/**
 * Saga step 5. Idempotent by orderId: a repeat returns the first entry.
 * Refused, with nothing changed, when the balance is short, or when the
 * order's points were refunded — before the deduction (the compensation
 * came first) or after it (a re-run of a half-compensated saga must not
 * count the points as taken: they are back in the balance).
 */
export async function deductPoints(
  em: EntityManager,
  input: { orderId: string; userId: string; amount: number },
): Promise<LedgerEntry> {
  return em.fork().transactional(async (tx) => {
    await lockForTransaction(tx, `order:${input.orderId}`);
    if (await findEntry(tx, { orderId: input.orderId, kind: 'REFUND' })) {
      throw new PointsAlreadyRefundedError(input.orderId);
    }
    const used = await findEntry(tx, { orderId: input.orderId, kind: 'USE' });
    if (used) return toEntry(used);
    const balance = await balanceOf(tx, input.userId);
    const entry = await append(tx, {
      userId: input.userId,
      kind: 'USE',
      amount: -input.amount,
      key: `order:${input.orderId}:use`,
      orderId: input.orderId,
    });
    if (!entry) throw new InsufficientPointsError(input.userId, balance, input.amount);
    return entry;
  });
}

/**
 * Compensation of step 5: gives back exactly what the order took, once. Before
 * any deduction it records a zero refund, so that a late deduction is refused.
 */
export async function refundPoints(
  em: EntityManager,
  input: { orderId: string; userId: string },
): Promise<LedgerEntry> {
  return em.fork().transactional(async (tx) => {
    await lockForTransaction(tx, `order:${input.orderId}`);
    const refunded = await findEntry(tx, { orderId: input.orderId, kind: 'REFUND' });
    if (refunded) return toEntry(refunded);
    const used = await findEntry(tx, { orderId: input.orderId, kind: 'USE' });
    await balanceOf(tx, used?.userId ?? input.userId);
    return (await append(tx, {
      userId: used?.userId ?? input.userId,
      kind: 'REFUND',
      amount: used ? -used.amount : 0,
      key: `order:${input.orderId}:refund`,
      orderId: input.orderId,
    }))!;
  });
}
