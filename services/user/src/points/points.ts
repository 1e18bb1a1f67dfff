import {
  addToOutbox,
  type EntityManager,
  IdempotencyKeyReusedError,
  NotFoundError,
  newEvent,
  type Page,
  type PageQuery,
  requestFingerprint,
  uuidv7,
} from '@shop/platform';
import { USER_EVENTS, UserEventType } from '../events/topics.ts';
import { InsufficientPointsError, PointsAlreadyRefundedError } from './points.errors.ts';

/** CHARGE: a paid top-up; GRANT: given by an admin or an operator; USE and REFUND: an order's. */
export type LedgerKind = 'CHARGE' | 'GRANT' | 'USE' | 'REFUND';

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

interface LedgerRow {
  id: string;
  user_id: string;
  kind: LedgerKind;
  amount: string;
  balance_after: string;
  order_id: string | null;
  top_up_id: string | null;
  reason: string | null;
  granted_by: string | null;
  idempotency_key: string;
  request_hash: string | null;
  /** Raw queries return timestamps as text. */
  created_at: string;
}

const toEntry = (r: LedgerRow): LedgerEntry => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
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

async function findEntry(
  tx: EntityManager,
  where: string,
  params: unknown[],
): Promise<LedgerRow | undefined> {
  const [row] = await tx.execute<LedgerRow[]>(`select * from point_ledger where ${where}`, params);
  return row;
}

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
  const [account] = await tx.execute<{ balance: string }[]>(
    'update point_accounts set balance = balance + ?, updated_at = now() where user_id = ? and balance + ? >= 0 returning balance',
    [entry.amount, entry.userId, entry.amount],
  );
  if (!account) return undefined;
  const [row] = await tx.execute<LedgerRow[]>(
    `insert into point_ledger (id, user_id, kind, amount, balance_after, idempotency_key, order_id, top_up_id,
       reason, granted_by, request_hash)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
    [
      uuidv7(),
      entry.userId,
      entry.kind,
      entry.amount,
      account.balance,
      entry.key,
      entry.orderId ?? null,
      entry.topUpId ?? null,
      entry.grant?.reason ?? null,
      entry.grant?.grantedBy ?? null,
      entry.requestHash ?? null,
    ],
  );
  const created = toEntry(row!);
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
  const [account] = await tx.execute<{ balance: string }[]>(
    'select balance from point_accounts where user_id = ?',
    [userId],
  );
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
  const rows = await tx.execute<LedgerRow[]>(
    'select * from point_ledger where user_id = ? order by id desc limit ? offset ?',
    [userId, page.size, (page.page - 1) * page.size],
  );
  const [count] = await tx.execute<{ n: string }[]>(
    'select count(*) as n from point_ledger where user_id = ?',
    [userId],
  );
  return { items: rows.map(toEntry), page: page.page, size: page.size, total: Number(count?.n ?? 0) };
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
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [key]);
    const previous = await findEntry(tx, 'top_up_id = ?', [input.topUpId]);
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
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [key]);
    const previous = await findEntry(tx, 'idempotency_key = ?', [key]);
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
  return em.fork().transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`order:${input.orderId}`]);
    if (await findEntry(tx, "order_id = ? and kind = 'REFUND'", [input.orderId])) {
      throw new PointsAlreadyRefundedError(input.orderId);
    }
    const used = await findEntry(tx, "order_id = ? and kind = 'USE'", [input.orderId]);
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
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`order:${input.orderId}`]);
    const refunded = await findEntry(tx, "order_id = ? and kind = 'REFUND'", [input.orderId]);
    if (refunded) return toEntry(refunded);
    const used = await findEntry(tx, "order_id = ? and kind = 'USE'", [input.orderId]);
    await balanceOf(tx, used?.user_id ?? input.userId);
    return (await append(tx, {
      userId: used?.user_id ?? input.userId,
      kind: 'REFUND',
      amount: used ? -Number(used.amount) : 0,
      key: `order:${input.orderId}:refund`,
      orderId: input.orderId,
    }))!;
  });
}
