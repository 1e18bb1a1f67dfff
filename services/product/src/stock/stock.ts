import { addToOutbox, type EntityManager, NotFoundError, newEvent, uuidv7 } from '@shop/platform';
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
  const rows = await tx.execute<{ product_id: string; quantity: string }[]>(
    'select product_id, quantity from stock_movements where order_id = ? and kind = ? order by product_id',
    [orderId, kind],
  );
  return rows.map((r) => ({ productId: r.product_id, quantity: Number(r.quantity) }));
}

async function lockOrder(tx: EntityManager, orderId: string): Promise<'DEDUCTED' | 'RESTORED' | undefined> {
  await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`stock:${orderId}`]);
  const [row] = await tx.execute<{ status: 'DEDUCTED' | 'RESTORED' }[]>(
    'select status from stock_reservations where order_id = ?',
    [orderId],
  );
  return row?.status;
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
  return em.fork().transactional(async (tx) => {
    const status = await lockOrder(tx, orderId);
    // A repeat answers the first result. Once restored — before the deduction
    // (the compensation came first) or after it (a re-run of a half-compensated
    // saga) — a deduct is refused: the stock is back on the shelf.
    if (status === 'RESTORED') throw new StockAlreadyRestoredError(orderId);
    if (status === 'DEDUCTED') return { orderId, status, items: await movements(tx, orderId, 'DEDUCT') };
    const lines = mergeLines(items);
    for (const line of lines) {
      const [updated] = await tx.execute<{ quantity: string }[]>(
        `update stocks s set quantity = s.quantity - ?, updated_at = now()
         from products p where s.product_id = ? and p.id = s.product_id and p.status = 'ACTIVE' and s.quantity >= ?
         returning s.quantity`,
        [line.quantity, line.productId, line.quantity],
      );
      if (!updated) {
        const [found] = await tx.execute<{ status: string; quantity: string }[]>(
          'select p.status, s.quantity from products p join stocks s on s.product_id = p.id where p.id = ?',
          [line.productId],
        );
        if (!found) throw new NotFoundError('product', line.productId);
        if (found.status !== 'ACTIVE') throw new ProductUnavailableError(line.productId);
        throw new OutOfStockError(line.productId, line.quantity, Number(found.quantity));
      }
      await tx.execute(
        "insert into stock_movements (id, order_id, product_id, kind, quantity) values (?, ?, ?, 'DEDUCT', ?)",
        [uuidv7(), orderId, line.productId, line.quantity],
      );
    }
    await tx.execute("insert into stock_reservations (order_id, status) values (?, 'DEDUCTED')", [orderId]);
    await stockEvent(tx, ProductEventType.StockDeducted, orderId, lines);
    return { orderId, status: 'DEDUCTED', items: lines };
  });
}

/**
 * Compensation of step 3: puts back exactly what the order took, once. Before
 * any deduction it records the order as restored, so that a late deduct is refused.
 */
export async function restoreStock(em: EntityManager, orderId: string): Promise<StockStepResult> {
  return em.fork().transactional(async (tx) => {
    const status = await lockOrder(tx, orderId);
    if (status === 'RESTORED') return { orderId, status, items: await movements(tx, orderId, 'RESTORE') };
    if (status === undefined) {
      await tx.execute("insert into stock_reservations (order_id, status) values (?, 'RESTORED')", [orderId]);
      return { orderId, status: 'RESTORED', items: [] };
    }
    const taken = await movements(tx, orderId, 'DEDUCT');
    for (const line of taken) {
      await tx.execute('update stocks set quantity = quantity + ?, updated_at = now() where product_id = ?', [
        line.quantity,
        line.productId,
      ]);
      await tx.execute(
        "insert into stock_movements (id, order_id, product_id, kind, quantity) values (?, ?, ?, 'RESTORE', ?)",
        [uuidv7(), orderId, line.productId, line.quantity],
      );
    }
    await tx.execute(
      "update stock_reservations set status = 'RESTORED', updated_at = now() where order_id = ?",
      [orderId],
    );
    await stockEvent(tx, ProductEventType.StockRestored, orderId, taken);
    return { orderId, status: 'RESTORED', items: taken };
  });
}

export async function getStock(em: EntityManager, productId: string): Promise<StockLine> {
  const [row] = await em
    .fork()
    .execute<{ quantity: string }[]>('select quantity from stocks where product_id = ?', [productId]);
  if (!row) throw new NotFoundError('product', productId);
  return { productId, quantity: Number(row.quantity) };
}
