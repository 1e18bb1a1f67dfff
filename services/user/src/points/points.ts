import {
  addToOutbox,
  type EntityManager,
  forwardOnce,
  IdempotencyKeyReusedError,
  lockForTransaction,
  NotFoundError,
  newEvent,
  type Page,
  type PageQuery,
  requestFingerprint,
  type Standing,
  undoOnce,
  uuidv7,
} from '@shop/platform';
import { type Selectable, sql } from 'kysely';
import { db, type LedgerKind, type UserDb } from '../db/entities.ts';
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

/*
 * Every statement here is Kysely's: the ledger is on the saga's path (a
 * deduction and a refund per order), where em's entity layer costs about
 * 0.2 ms of CPU a call more (measured: loadtest/RESULTS.md, issue #25).
 */

type LedgerRow = Selectable<UserDb['point_ledger']>;

const toEntry = (r: LedgerRow): LedgerEntry => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  // bigint columns come from the driver as strings, times as text.
  amount: Number(r.amount),
  balanceAfter: Number(r.balance_after),
  orderId: r.order_id,
  topUpId: r.top_up_id,
  reason: r.reason,
  grantedBy: r.granted_by,
  createdAt: new Date(r.created_at).toISOString(),
});

const eventType: Record<LedgerKind, string> = {
  CHARGE: UserEventType.PointsCharged,
  GRANT: UserEventType.PointsGranted,
  USE: UserEventType.PointsUsed,
  REFUND: UserEventType.PointsRefunded,
};

/** The entry with this key, this top-up, or this order's deduction or refund. */
function findEntry(
  tx: EntityManager,
  where: { idempotencyKey: string } | { topUpId: string } | { orderId: string; kind: LedgerKind },
): Promise<LedgerRow | undefined> {
  const query = db(tx).selectFrom('point_ledger').selectAll();
  const found =
    'idempotencyKey' in where
      ? query.where('idempotency_key', '=', where.idempotencyKey)
      : 'topUpId' in where
        ? query.where('top_up_id', '=', where.topUpId)
        : query.where('order_id', '=', where.orderId).where('kind', '=', where.kind);
  return found.executeTakeFirst();
}

/** Where the order's points step stands: its USE entry, or its REFUND entry (the undo wins). */
async function standing(tx: EntityManager, orderId: string): Promise<Standing<LedgerRow, LedgerRow>> {
  const refunded = await findEntry(tx, { orderId, kind: 'REFUND' });
  if (refunded) return { state: 'undone', undone: refunded };
  const used = await findEntry(tx, { orderId, kind: 'USE' });
  return used ? { state: 'done', done: used } : { state: 'none' };
}

const orderKey = (orderId: string) => `order:${orderId}`;

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
  // One conditional statement: the balance never goes below zero.
  const account = await db(tx)
    .updateTable('point_accounts')
    .set((eb) => ({ balance: eb('balance', '+', entry.amount), updated_at: sql`now()` }))
    .where('user_id', '=', entry.userId)
    .where((eb) => eb(eb('balance', '+', entry.amount), '>=', 0))
    .returning('balance')
    .executeTakeFirst();
  if (!account) return undefined;
  const row = await db(tx)
    .insertInto('point_ledger')
    .values({
      id: uuidv7(),
      user_id: entry.userId,
      kind: entry.kind,
      amount: entry.amount,
      balance_after: account.balance,
      idempotency_key: entry.key,
      request_hash: entry.requestHash ?? null,
      order_id: entry.orderId ?? null,
      top_up_id: entry.topUpId ?? null,
      reason: entry.grant?.reason ?? null,
      granted_by: entry.grant?.grantedBy ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
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
  const account = await db(tx)
    .selectFrom('point_accounts')
    .select('balance')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!account) throw new NotFoundError('user', userId);
  return Number(account.balance);
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
  const mine = db(tx).selectFrom('point_ledger').where('user_id', '=', userId);
  const [rows, count] = await Promise.all([
    mine
      .selectAll()
      .orderBy('id', 'desc')
      .limit(page.size)
      .offset((page.page - 1) * page.size)
      .execute(),
    mine.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toEntry), page: page.page, size: page.size, total: Number(count.n) };
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
      if (previous.request_hash !== requestHash) throw new IdempotencyKeyReusedError(input.idempotencyKey);
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
  return em.fork().transactional((tx) =>
    forwardOnce(tx, orderKey(input.orderId), () => standing(tx, input.orderId), {
      replay: toEntry,
      refuse: () => new PointsAlreadyRefundedError(input.orderId),
      run: async () => {
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
      },
    }),
  );
}

/**
 * Compensation of step 5: gives back exactly what the order took, once. Before
 * any deduction it records a zero refund, so that a late deduction is refused.
 */
export async function refundPoints(
  em: EntityManager,
  input: { orderId: string; userId: string },
): Promise<LedgerEntry> {
  // Exactly what the order took, or a zero refund: either is the order's REFUND entry.
  const refund = async (tx: EntityManager, used: LedgerRow | undefined) => {
    const userId = used?.user_id ?? input.userId;
    await balanceOf(tx, userId);
    return (await append(tx, {
      userId,
      kind: 'REFUND',
      amount: used ? -Number(used.amount) : 0,
      key: `order:${input.orderId}:refund`,
      orderId: input.orderId,
    }))!;
  };
  return em.fork().transactional((tx) =>
    undoOnce(tx, orderKey(input.orderId), () => standing(tx, input.orderId), {
      replay: toEntry,
      tombstone: () => refund(tx, undefined),
      run: (used) => refund(tx, used),
    }),
  );
}
