import { type EntityManager, ValidationError } from '@shop/platform';
import { sql } from 'kysely';
import { db, ProductStatus } from '../db/entities.ts';
import { ProductUnavailableError } from '../stock/stock.errors.ts';

/**
 * A user's cart (seed 000: it belongs with the products): one per user, a
 * line per product. Read with each product's live price, status and stock, so
 * a line whose product was withdrawn or sold out says so; an order placed
 * from the cart takes its lines, and the cart loses them only when that
 * order completes (cart/order-completed.handler.ts).
 */

export const MAX_CART_LINES = 50;
export const MAX_LINE_QUANTITY = 1000;

export interface CartLineView {
  productId: string;
  name: string;
  /** The product's price now (an order copies the price at the time it is placed). */
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  /** Stock left now. */
  inStock: number;
  /** `unavailable`: withdrawn from sale; `not-enough-stock`: fewer left than the line asks for. */
  problem: 'unavailable' | 'not-enough-stock' | null;
}

export interface CartView {
  userId: string;
  lines: CartLineView[];
  /** Of the lines that can be ordered as they are. */
  total: number;
  updatedAt: string | null;
}

export async function readCart(em: EntityManager, userId: string): Promise<CartView> {
  const rows = await db(em.fork())
    .selectFrom('cart_lines as l')
    .innerJoin('products as p', 'p.id', 'l.product_id')
    .leftJoin('stocks as s', 's.product_id', 'l.product_id')
    .select([
      'l.product_id',
      'l.quantity',
      'l.updated_at',
      'p.name',
      'p.price',
      'p.status',
      's.quantity as in_stock',
    ])
    .where('l.user_id', '=', userId)
    .orderBy('l.added_at')
    .orderBy('l.product_id')
    .execute();
  const lines = rows.map((r): CartLineView => {
    const inStock = Number(r.in_stock ?? 0);
    const unitPrice = Number(r.price);
    return {
      productId: r.product_id,
      name: r.name,
      unitPrice,
      quantity: r.quantity,
      lineTotal: unitPrice * r.quantity,
      inStock,
      problem:
        r.status !== ProductStatus.ACTIVE ? 'unavailable' : inStock < r.quantity ? 'not-enough-stock' : null,
    };
  });
  const updated = rows.map((r) => new Date(r.updated_at).getTime());
  return {
    userId,
    lines,
    total: lines.filter((l) => l.problem === null).reduce((sum, l) => sum + l.lineTotal, 0),
    updatedAt: updated.length > 0 ? new Date(Math.max(...updated)).toISOString() : null,
  };
}

/** A product a cart may take: one that exists and is on sale. */
async function assertOnSale(em: EntityManager, productId: string): Promise<void> {
  const product = await db(em)
    .selectFrom('products')
    .select('status')
    .where('id', '=', productId)
    .executeTakeFirst();
  if (!product) throw new ValidationError([{ field: 'body.productId', message: 'no such product' }]);
  if (product.status !== ProductStatus.ACTIVE) throw new ProductUnavailableError(productId);
}

/**
 * Puts `quantity` of the product in the cart: added to the line's (`add`) or
 * instead of it (`set`). At most MAX_CART_LINES lines and MAX_LINE_QUANTITY of
 * a product, refused on the field that broke it.
 */
export async function putInCart(
  em: EntityManager,
  userId: string,
  line: { productId: string; quantity: number },
  mode: 'add' | 'set',
): Promise<CartView> {
  await em.fork().transactional(async (tx) => {
    await assertOnSale(tx, line.productId);
    const others = await db(tx)
      .selectFrom('cart_lines')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', userId)
      .where('product_id', '<>', line.productId)
      .executeTakeFirstOrThrow();
    if (others.n >= MAX_CART_LINES)
      throw new ValidationError([
        { field: 'body.productId', message: `a cart holds at most ${MAX_CART_LINES} products` },
      ]);
    const put = await db(tx)
      .insertInto('cart_lines')
      .values({ user_id: userId, product_id: line.productId, quantity: line.quantity })
      .onConflict((oc) =>
        oc
          .columns(['user_id', 'product_id'])
          .doUpdateSet({
            quantity: mode === 'add' ? sql`cart_lines.quantity + excluded.quantity` : sql`excluded.quantity`,
            updated_at: sql`now()`,
          })
          .where(
            mode === 'add'
              ? sql<boolean>`cart_lines.quantity + excluded.quantity <= ${MAX_LINE_QUANTITY}`
              : sql<boolean>`true`,
          ),
      )
      .returning('quantity')
      .executeTakeFirst();
    if (!put)
      throw new ValidationError([
        { field: 'body.quantity', message: `at most ${MAX_LINE_QUANTITY} of a product in a cart` },
      ]);
  });
  return readCart(em, userId);
}

/** Takes the product out of the cart (nothing happens when it is not in it). */
export async function removeFromCart(
  em: EntityManager,
  userId: string,
  productId: string,
): Promise<CartView> {
  await db(em.fork())
    .deleteFrom('cart_lines')
    .where('user_id', '=', userId)
    .where('product_id', '=', productId)
    .execute();
  return readCart(em, userId);
}

export async function clearCart(em: EntityManager, userId: string): Promise<CartView> {
  await db(em.fork()).deleteFrom('cart_lines').where('user_id', '=', userId).execute();
  return readCart(em, userId);
}

/**
 * Takes out of the cart what the completed order bought (what this service
 * deducted for it), in the caller's transaction: a line added or raised since
 * the checkout keeps the rest.
 */
export async function removeOrdered(tx: EntityManager, userId: string, orderId: string): Promise<void> {
  const bought = db(tx)
    .selectFrom('stock_movements')
    .select(['product_id', 'quantity'])
    .where('order_id', '=', orderId)
    .where('kind', '=', 'DEDUCT');
  await db(tx)
    .deleteFrom('cart_lines as l')
    .where('l.user_id', '=', userId)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('stock_movements as m')
          .select('m.id')
          .where('m.order_id', '=', orderId)
          .where('m.kind', '=', 'DEDUCT')
          .whereRef('m.product_id', '=', 'l.product_id')
          .whereRef('m.quantity', '>=', 'l.quantity'),
      ),
    )
    .execute();
  await db(tx)
    .updateTable('cart_lines as l')
    .from(bought.as('b'))
    .set({ quantity: sql`l.quantity - b.quantity`, updated_at: sql`now()` })
    .where('l.user_id', '=', userId)
    .whereRef('l.product_id', '=', 'b.product_id')
    .execute();
}
