import {
  addToOutbox,
  type EntityManager,
  forwardOnce,
  NotFoundError,
  newEvent,
  type Standing,
  undoOnce,
  uuidv7,
} from '@shop/platform';
import { sql } from 'kysely';
import { db, StockEntity } from '../db/entities.ts';
import { PRODUCT_EVENTS, ProductEventType } from '../events/topics.ts';
import { OutOfStockError, ProductUnavailableError, StockAlreadyRestoredError } from './stock.errors.ts';

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface StockStepResult {
  orderId: string;
  status: 'DEDUCTED' | 'RESTORED';
  items: StockLine[];
}

/** Adds up lines of the same product and sorts by id, so concurrent orders lock rows in one order. */
export function mergeLines(items: StockLine[]): StockLine[] {
  const merged = new Map<string, number>();
  for (const { productId, quantity } of items) merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  return [...merged]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => a.productId.localeCompare(b.productId));
}

async function movements(
  tx: EntityManager,
  orderId: string,
  kind: 'DEDUCT' | 'RESTORE',
): Promise<StockLine[]> {
  const rows = await db(tx)
    .selectFrom('stock_movements')
    .select(['product_id', 'quantity'])
    .where('order_id', '=', orderId)
    .where('kind', '=', kind)
    .orderBy('product_id')
    .execute();
  return rows.map((r) => ({ productId: r.product_id, quantity: Number(r.quantity) }));
}

/*
 * The stock step is on every order's path: its statements are Kysely's, where
 * em's entity layer costs about 0.2 ms of CPU a call more (loadtest/RESULTS.md, issue #25).
 */

/** Where the order's stock step stands: its reservation row, DEDUCTED or RESTORED, if any. */
async function standing(tx: EntityManager, orderId: string): Promise<Standing<'DEDUCTED', 'RESTORED'>> {
  const row = await db(tx)
    .selectFrom('stock_reservations')
    .select('status')
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  if (!row) return { state: 'none' };
  return row.status === 'DEDUCTED'
    ? { state: 'done', done: 'DEDUCTED' }
    : { state: 'undone', undone: 'RESTORED' };
}

const orderKey = (orderId: string) => `stock:${orderId}`;

/** The order's movements of one kind: one statement for its lines. */
async function recordMovements(
  tx: EntityManager,
  orderId: string,
  kind: 'DEDUCT' | 'RESTORE',
  lines: StockLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await db(tx)
    .insertInto('stock_movements')
    .values(
      lines.map((l) => ({
        id: uuidv7(),
        order_id: orderId,
        product_id: l.productId,
        kind,
        quantity: l.quantity,
      })),
    )
    .execute();
}

async function stockEvent(tx: EntityManager, type: string, orderId: string, items: StockLine[]) {
  await addToOutbox(
    tx,
    newEvent({
      topic: PRODUCT_EVENTS,
      type,
      source: 'product',
      subject: orderId,
      data: { orderId, productIds: items.map((i) => i.productId) },
    }),
  );
}

/**
 * Saga step 3: takes every line of the order, or none. Each line is a
 * conditional update (quantity >= asked), so stock never goes below zero
 * however many orders race for it. Idempotent by orderId.
 */
export async function deductStock(
  em: EntityManager,
  orderId: string,
  items: StockLine[],
): Promise<StockStepResult> {
  return em.fork().transactional((tx) =>
    forwardOnce(tx, orderKey(orderId), () => standing(tx, orderId), {
      // A repeat answers the first result.
      replay: async (): Promise<StockStepResult> => ({
        orderId,
        status: 'DEDUCTED',
        items: await movements(tx, orderId, 'DEDUCT'),
      }),
      // Restored: the stock is back on the shelf.
      refuse: () => new StockAlreadyRestoredError(orderId),
      run: () => takeStock(tx, orderId, items),
    }),
  );
}

/** Takes every line of the order, or none (the caller's transaction rolls back). */
async function takeStock(tx: EntityManager, orderId: string, items: StockLine[]): Promise<StockStepResult> {
  const lines = mergeLines(items);
  for (const line of lines) {
    // One conditional statement per line (Kysely: em has no update with a join and a condition on the value).
    const updated = await db(tx)
      .updateTable('stocks as s')
      .from('products as p')
      .set((eb) => ({ quantity: eb('s.quantity', '-', line.quantity), updated_at: sql`now()` }))
      .where('s.product_id', '=', line.productId)
      .whereRef('p.id', '=', 's.product_id')
      .where('p.status', '=', 'ACTIVE')
      .where('s.quantity', '>=', line.quantity)
      .returning('s.quantity')
      .executeTakeFirst();
    if (!updated) {
      const found = await db(tx)
        .selectFrom('products as p')
        .innerJoin('stocks as s', 's.product_id', 'p.id')
        .select(['p.status', 's.quantity'])
        .where('p.id', '=', line.productId)
        .executeTakeFirst();
      if (!found) throw new NotFoundError('product', line.productId);
      if (found.status !== 'ACTIVE') throw new ProductUnavailableError(line.productId);
      throw new OutOfStockError(line.productId, line.quantity, Number(found.quantity));
    }
  }
  await recordMovements(tx, orderId, 'DEDUCT', lines);
  await db(tx).insertInto('stock_reservations').values({ order_id: orderId, status: 'DEDUCTED' }).execute();
  await stockEvent(tx, ProductEventType.StockDeducted, orderId, lines);
  return { orderId, status: 'DEDUCTED', items: lines };
}

/**
 * Compensation of step 3: puts back exactly what the order took, once. Before
 * any deduction it records the order as restored, so that a late deduct is refused.
 */
export async function restoreStock(em: EntityManager, orderId: string): Promise<StockStepResult> {
  return em.fork().transactional((tx) =>
    undoOnce(tx, orderKey(orderId), () => standing(tx, orderId), {
      replay: async (): Promise<StockStepResult> => ({
        orderId,
        status: 'RESTORED',
        items: await movements(tx, orderId, 'RESTORE'),
      }),
      tombstone: async (): Promise<StockStepResult> => {
        await db(tx)
          .insertInto('stock_reservations')
          .values({ order_id: orderId, status: 'RESTORED' })
          .execute();
        return { orderId, status: 'RESTORED', items: [] };
      },
      run: () => putBack(tx, orderId),
    }),
  );
}

/** Puts back exactly what the order took. */
async function putBack(tx: EntityManager, orderId: string): Promise<StockStepResult> {
  const taken = await movements(tx, orderId, 'DEDUCT');
  for (const line of taken)
    await db(tx)
      .updateTable('stocks')
      .set((eb) => ({ quantity: eb('quantity', '+', line.quantity), updated_at: sql`now()` }))
      .where('product_id', '=', line.productId)
      .execute();
  await recordMovements(tx, orderId, 'RESTORE', taken);
  await db(tx)
    .updateTable('stock_reservations')
    .set({ status: 'RESTORED', updated_at: sql`now()` })
    .where('order_id', '=', orderId)
    .execute();
  await stockEvent(tx, ProductEventType.StockRestored, orderId, taken);
  return { orderId, status: 'RESTORED', items: taken };
}

export async function getStock(em: EntityManager, productId: string): Promise<StockLine> {
  const row = await em.fork().findOne(StockEntity, productId, { disableIdentityMap: true });
  if (!row) throw new NotFoundError('product', productId);
  return { productId, quantity: row.quantity };
}
