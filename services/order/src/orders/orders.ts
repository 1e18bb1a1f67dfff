import { UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  addToOutbox,
  DaprHttpError,
  type DaprSidecar,
  type EntityManager,
  IdempotencyKeyReusedError,
  NotFoundError,
  newEvent,
  requestFingerprint,
  uuidv7,
  ValidationError,
} from '@shop/platform';
import { AppId, ORDER_EVENTS, OrderEventType } from '../events/topics.ts';
import { ordersEnded, sagaStepStates } from './order-metrics.ts';

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
  /** Asked for by the client. */
  pointsToUse: number;
  totalAmount: number;
  discount: number;
  /** Taken by the saga: at most what was left after the discount. */
  pointsUsed: number;
  /** totalAmount - discount - pointsUsed. */
  paymentAmount: number;
  failureReason: string | null;
  /** The saga instance driving the order: its id for the first run, another after a re-run. */
  workflowId: string;
  items: { productId: string; productName: string; unitPrice: number; quantity: number }[];
  /**
   * `attempts`: how many times the step was started (more than 1: it was retried).
   * `problemType`: when a service refused the step, its RFC 9457 problem type
   * (e.g. `urn:shop-on-dapr:problem:out-of-stock`), so that a client can say
   * what went wrong in its own words; `detail` is the service's own sentence.
   */
  steps: OrderStepView[];
  createdAt: string;
  updatedAt: string;
}

export interface OrderStepView {
  step: Step;
  state: StepState;
  detail: string | null;
  problemType: string | null;
  attempts: number;
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
  points_used: string;
  failure_reason: string | null;
  workflow_id: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * What the saga's later steps accept (the product service's largest deduction
 * per product, the payment and coupon services' largest amount): an order past
 * them is refused at once rather than failing at that step after others ran.
 */
export const MAX_QUANTITY_PER_PRODUCT = 10_000;
export const MAX_ORDER_TOTAL = 1_000_000_000;

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
 * key, a repeated request (same user, same key, same body) returns the order
 * the first one created; the same key with another body is refused. A key is
 * looked up among its own user's orders only.
 */
export async function createOrder(
  deps: { em: EntityManager; sidecar: DaprSidecar },
  input: NewOrder,
  idempotencyKey?: string,
): Promise<{ order: OrderView; created: boolean }> {
  const requestHash = idempotencyKey ? requestFingerprint(input) : null;
  if (idempotencyKey) {
    const [existing] = await deps.em
      .fork()
      .execute<{ id: string; request_hash: string | null }[]>(
        'select id, request_hash from orders where user_id = ? and idempotency_key = ?',
        [input.userId, idempotencyKey],
      );
    if (existing) {
      // Orders from before fingerprints were stored (null) are taken as the same request.
      if (existing.request_hash !== null && existing.request_hash !== requestHash) {
        throw new IdempotencyKeyReusedError(idempotencyKey);
      }
      return { order: await getOrder(deps.em, existing.id), created: false };
    }
  }
  const merged = mergeLines(input.items);
  const tooMany = merged.filter((l) => l.quantity > MAX_QUANTITY_PER_PRODUCT);
  if (tooMany.length > 0) {
    throw new ValidationError(
      tooMany.map((l) => ({
        field: 'body.items',
        message: `${l.quantity} of product ${l.productId}: at most ${MAX_QUANTITY_PER_PRODUCT} per order`,
      })),
    );
  }
  const lines = await priceLines(deps.sidecar, merged);
  const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
  if (total > MAX_ORDER_TOTAL) {
    throw new ValidationError([
      { field: 'body.items', message: `the total (${total} KRW) is over ${MAX_ORDER_TOTAL} KRW` },
    ]);
  }
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
        `insert into orders (id, user_id, status, coupon_id, points_to_use, total_amount, idempotency_key, request_hash)
         values (?, ?, 'PENDING', ?, ?, ?, ?, ?)`,
        [
          orderId,
          input.userId,
          input.couponId ?? null,
          input.pointsToUse,
          total,
          idempotencyKey ?? null,
          requestHash,
        ],
      );
      // One statement for the lines and one for the steps (not one per row): every order pays these.
      await tx.execute(
        `insert into order_items (order_id, product_id, product_name, unit_price, quantity)
         values ${lines.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        lines.flatMap((l) => [orderId, l.productId, l.productName, l.unitPrice, l.quantity]),
      );
      await tx.execute(
        `insert into order_steps (order_id, position, step, state) values ${STEPS.map(() => '(?, ?, ?, ?)').join(', ')}`,
        [...STEPS.entries()].flatMap(([position, step]) => [
          orderId,
          position,
          step,
          skipped.has(step) ? 'skipped' : 'pending',
        ]),
      );
    });
  } catch (err) {
    // The same key sent twice at once: the unique index decides (the loser waits for the
    // winner's commit), and the loser answers as a repeat.
    // (The order's id is a fresh UUIDv7: the key's index is the only one it can collide on.)
    if (idempotencyKey && err instanceof UniqueConstraintViolationException) {
      return createOrder(deps, input, idempotencyKey);
    }
    throw err;
  }
  return { order: await getOrder(deps.em, orderId), created: true };
}

/**
 * The order with its lines and steps, in one statement: it is what every poll
 * and every SSE tick reads, so it costs one round trip to Postgres, not three.
 */
export async function getOrder(em: EntityManager, orderId: string): Promise<OrderView> {
  const [o] = await em.fork().execute<
    (OrderRow & {
      items: { productId: string; productName: string; unitPrice: number | string; quantity: number }[];
      steps: OrderStepView[];
    })[]
  >(
    `select o.*,
       coalesce((select json_agg(json_build_object('productId', i.product_id, 'productName', i.product_name,
                  'unitPrice', i.unit_price, 'quantity', i.quantity) order by i.product_id)
                 from order_items i where i.order_id = o.id), '[]') as items,
       coalesce((select json_agg(json_build_object('step', s.step, 'state', s.state, 'detail', s.detail,
                  'problemType', s.problem_type, 'attempts', s.attempts, 'updatedAt', s.updated_at) order by s.position)
                 from order_steps s where s.order_id = o.id), '[]') as steps
     from orders o where o.id = ?`,
    [orderId],
  );
  if (!o) throw new NotFoundError('order', orderId);
  const total = Number(o.total_amount);
  const discount = Number(o.discount);
  const pointsUsed = Number(o.points_used);
  return {
    orderId: o.id,
    userId: o.user_id,
    status: o.status,
    couponId: o.coupon_id,
    pointsToUse: Number(o.points_to_use),
    totalAmount: total,
    discount,
    pointsUsed,
    paymentAmount: total - discount - pointsUsed,
    failureReason: o.failure_reason,
    workflowId: o.workflow_id ?? o.id,
    items: o.items.map((i) => ({ ...i, unitPrice: Number(i.unitPrice) })),
    steps: o.steps.map((s) => ({ ...s, updatedAt: new Date(s.updatedAt).toISOString() })),
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
  /** The refusal's problem type, when a service refused the step. */
  problemType?: string,
): Promise<void> {
  await em.fork().execute(
    `update order_steps set state = ?, detail = ?, problem_type = ?, updated_at = now(),
         attempts = attempts + case when ? = 'running' then 1 else 0 end
       where order_id = ? and step = ?`,
    [state, detail ?? null, problemType ?? null, state, orderId, step],
  );
  sagaStepStates.inc({ step, state });
}

/** A step's recorded state, or undefined when the order has no such step. */
export async function stepState(
  em: EntityManager,
  orderId: string,
  step: Step,
): Promise<StepState | undefined> {
  const [row] = await em
    .fork()
    .execute<{ state: StepState }[]>('select state from order_steps where order_id = ? and step = ?', [
      orderId,
      step,
    ]);
  return row?.state;
}

export async function applyDiscount(em: EntityManager, orderId: string, discount: number): Promise<void> {
  await em
    .fork()
    .execute('update orders set discount = ?, updated_at = now() where id = ?', [discount, orderId]);
}

/**
 * Hands a PENDING order over to a new saga instance, if `from` still drives it:
 * of several reconcilers, one wins. Touches updated_at, so the new run's
 * idle time counts from now.
 */
export async function switchWorkflow(em: EntityManager, orderId: string, from: string, to: string) {
  const won = await em.fork().execute(
    `update orders set workflow_id = ?, updated_at = now()
       where id = ? and status = 'PENDING' and coalesce(workflow_id, id::text) = ? returning id`,
    [to, orderId, from],
  );
  return won.length === 1;
}

/** Records how many points the saga takes, once the discount is known (before the payment). */
export async function recordPointsUsed(
  em: EntityManager,
  orderId: string,
  pointsUsed: number,
): Promise<void> {
  await em
    .fork()
    .execute('update orders set points_used = ?, updated_at = now() where id = ?', [pointsUsed, orderId]);
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
  const ended = await em.fork().transactional(async (tx) => {
    const updated = await tx.execute(
      // A failed order took no points (they were refunded, or never deducted).
      `update orders set status = ?, failure_reason = ?, updated_at = now(),
         points_used = case when ? = 'FAILED' then 0 else points_used end
       where id = ? and status in ('PENDING', 'NEEDS_ATTENTION') returning id`,
      [status, reason ?? null, status, orderId],
    );
    if (updated.length === 0) return false;
    if (status === 'NEEDS_ATTENTION') return true;
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
    return true;
  });
  if (ended) ordersEnded.inc({ status });
}
