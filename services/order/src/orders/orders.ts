import {
  addToOutbox,
  DaprHttpError,
  type DaprSidecar,
  type EntityManager,
  NotFoundError,
  newEvent,
  uuidv7,
  ValidationError,
} from '@shop/platform';
import { AppId, ORDER_EVENTS, OrderEventType } from '../events/topics.ts';

/** The saga's steps, in the order of DESIGN.md (cheap, self-restorable steps first; payment last). */
export const STEPS = [
  'useCoupon',
  'applyCoupon',
  'deductStock',
  'startPayment',
  'deductPoints',
  'completePayment',
  'completeOrder',
] as const;
export type Step = (typeof STEPS)[number];
export type StepState =
  | 'pending'
  | 'running'
  | 'done'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'skipped';
export type OrderStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'NEEDS_ATTENTION';

export interface OrderLine {
  productId: string;
  quantity: number;
}

export interface NewOrder {
  userId: string;
  items: OrderLine[];
  couponId?: string;
  pointsToUse: number;
}

export interface OrderView {
  orderId: string;
  userId: string;
  status: OrderStatus;
  couponId: string | null;
  pointsToUse: number;
  totalAmount: number;
  discount: number;
  paymentAmount: number;
  failureReason: string | null;
  items: { productId: string; productName: string; unitPrice: number; quantity: number }[];
  steps: { step: Step; state: StepState; detail: string | null; updatedAt: string }[];
  createdAt: string;
  updatedAt: string;
}

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  coupon_id: string | null;
  points_to_use: string;
  total_amount: string;
  discount: string;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** Adds up lines of the same product. */
const mergeLines = (items: OrderLine[]): OrderLine[] => {
  const merged = new Map<string, number>();
  for (const i of items) merged.set(i.productId, (merged.get(i.productId) ?? 0) + i.quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
};

/** Name, price and status from the product service: copied into the order, never joined later. */
async function priceLines(sidecar: DaprSidecar, lines: OrderLine[]) {
  return Promise.all(
    lines.map(async (line, i) => {
      try {
        const product = await sidecar.invoke<{ name: string; price: number; status: string }>(
          AppId.product,
          `products/${line.productId}`,
          'GET',
        );
        if (product.status !== 'ACTIVE') {
          throw new ValidationError([
            { field: `body.items.${i}.productId`, message: 'this product is not on sale' },
          ]);
        }
        return { ...line, productName: product.name, unitPrice: product.price };
      } catch (err) {
        if (err instanceof DaprHttpError && err.status === 404) {
          throw new ValidationError([{ field: `body.items.${i}.productId`, message: 'no such product' }]);
        }
        throw err;
      }
    }),
  );
}

/**
 * Records a new order PENDING with its lines and steps. With an idempotency
 * key, a repeated request returns the order the first one created.
 */
export async function createOrder(
  deps: { em: EntityManager; sidecar: DaprSidecar },
  input: NewOrder,
  idempotencyKey?: string,
): Promise<{ order: OrderView; created: boolean }> {
  if (idempotencyKey) {
    const [existing] = await deps.em
      .fork()
      .execute<{ id: string }[]>('select id from orders where idempotency_key = ?', [idempotencyKey]);
    if (existing) return { order: await getOrder(deps.em, existing.id), created: false };
  }
  const lines = await priceLines(deps.sidecar, mergeLines(input.items));
  const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
  if (input.pointsToUse > total) {
    throw new ValidationError([
      { field: 'body.pointsToUse', message: `more than the order total (${total} KRW)` },
    ]);
  }
  const orderId = uuidv7();
  const skipped = new Set<Step>([
    ...(input.couponId ? [] : (['useCoupon', 'applyCoupon'] as const)),
    ...(input.pointsToUse > 0 ? [] : (['deductPoints'] as const)),
  ]);
  try {
    await deps.em.fork().transactional(async (tx) => {
      await tx.execute(
        `insert into orders (id, user_id, status, coupon_id, points_to_use, total_amount, idempotency_key)
         values (?, ?, 'PENDING', ?, ?, ?, ?)`,
        [orderId, input.userId, input.couponId ?? null, input.pointsToUse, total, idempotencyKey ?? null],
      );
      for (const l of lines) {
        await tx.execute(
          'insert into order_items (order_id, product_id, product_name, unit_price, quantity) values (?, ?, ?, ?, ?)',
          [orderId, l.productId, l.productName, l.unitPrice, l.quantity],
        );
      }
      for (const [position, step] of STEPS.entries()) {
        await tx.execute('insert into order_steps (order_id, position, step, state) values (?, ?, ?, ?)', [
          orderId,
          position,
          step,
          skipped.has(step) ? 'skipped' : 'pending',
        ]);
      }
    });
  } catch (err) {
    // The same key sent twice at once: the unique index decides, the loser answers the winner's order.
    if (idempotencyKey && String((err as Error).message).includes('idempotency_key')) {
      return createOrder(deps, input, idempotencyKey);
    }
    throw err;
  }
  return { order: await getOrder(deps.em, orderId), created: true };
}

export async function getOrder(em: EntityManager, orderId: string): Promise<OrderView> {
  const tx = em.fork();
  const [o] = await tx.execute<OrderRow[]>('select * from orders where id = ?', [orderId]);
  if (!o) throw new NotFoundError('order', orderId);
  const items = await tx.execute<
    { product_id: string; product_name: string; unit_price: string; quantity: number }[]
  >('select * from order_items where order_id = ? order by product_id', [orderId]);
  const steps = await tx.execute<
    { step: Step; state: StepState; detail: string | null; updated_at: string }[]
  >('select step, state, detail, updated_at from order_steps where order_id = ? order by position', [
    orderId,
  ]);
  const total = Number(o.total_amount);
  const discount = Number(o.discount);
  const points = Number(o.points_to_use);
  return {
    orderId: o.id,
    userId: o.user_id,
    status: o.status,
    couponId: o.coupon_id,
    pointsToUse: points,
    totalAmount: total,
    discount,
    paymentAmount: Math.max(0, total - discount - points),
    failureReason: o.failure_reason,
    items: items.map((i) => ({
      productId: i.product_id,
      productName: i.product_name,
      unitPrice: Number(i.unit_price),
      quantity: i.quantity,
    })),
    steps: steps.map((s) => ({
      step: s.step,
      state: s.state,
      detail: s.detail,
      updatedAt: new Date(s.updated_at).toISOString(),
    })),
    createdAt: new Date(o.created_at).toISOString(),
    updatedAt: new Date(o.updated_at).toISOString(),
  };
}

export async function listUserOrders(em: EntityManager, userId: string, limit = 50): Promise<OrderView[]> {
  const rows = await em
    .fork()
    .execute<{ id: string }[]>('select id from orders where user_id = ? order by id desc limit ?', [
      userId,
      limit,
    ]);
  return Promise.all(rows.map((r) => getOrder(em, r.id)));
}

export async function markStep(
  em: EntityManager,
  orderId: string,
  step: Step,
  state: StepState,
  detail?: string,
): Promise<void> {
  await em
    .fork()
    .execute(
      'update order_steps set state = ?, detail = ?, updated_at = now() where order_id = ? and step = ?',
      [state, detail ?? null, orderId, step],
    );
}

export async function applyDiscount(em: EntityManager, orderId: string, discount: number): Promise<void> {
  await em
    .fork()
    .execute('update orders set discount = ?, updated_at = now() where id = ?', [discount, orderId]);
}

/**
 * Ends the order: COMPLETED or FAILED with its event in the outbox (one
 * transaction), or NEEDS_ATTENTION when a compensation ran out of attempts.
 * Idempotent: an order already ended keeps its first ending.
 */
export async function finishOrder(
  em: EntityManager,
  orderId: string,
  status: Exclude<OrderStatus, 'PENDING'>,
  reason?: string,
): Promise<void> {
  await em.fork().transactional(async (tx) => {
    const updated = await tx.execute(
      "update orders set status = ?, failure_reason = ?, updated_at = now() where id = ? and status in ('PENDING', 'NEEDS_ATTENTION') returning id",
      [status, reason ?? null, orderId],
    );
    if (updated.length === 0 || status === 'NEEDS_ATTENTION') return;
    const type = status === 'COMPLETED' ? OrderEventType.OrderCompleted : OrderEventType.OrderFailed;
    await addToOutbox(
      tx,
      newEvent({
        topic: ORDER_EVENTS,
        type,
        source: 'order',
        subject: orderId,
        data: { orderId, ...(reason ? { reason } : {}) },
      }),
    );
  });
}
