import { type EntityManager, NotFoundError, withDriverErrors } from '@shop/platform';
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { db, OrderEntity, OrderStepEntity } from '../db/entities.ts';
import type { OrderLine, OrderStatus, OrderView, Step, StepState } from './order.model.ts';

/**
 * Every read and write of the orders, their lines and their steps. Reads
 * answer plain objects (OrderView), each in one statement however many orders
 * it returns; writes that set `updated_at` take the database's clock, which
 * the reconciler's idle times are counted on.
 */

/** The order with its lines and steps aggregated in: one statement. */
function selectOrders(em: EntityManager) {
  return db(em)
    .selectFrom('orders as o')
    .selectAll('o')
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('order_items as i')
          .select(['i.product_id', 'i.product_name', 'i.unit_price', 'i.quantity'])
          .whereRef('i.order_id', '=', 'o.id')
          .orderBy('i.product_id'),
      ).as('items'),
      jsonArrayFrom(
        eb
          .selectFrom('order_steps as s')
          .select(['s.step', 's.state', 's.detail', 's.problem_type', 's.attempts', 's.updated_at'])
          .whereRef('s.order_id', '=', 'o.id')
          .orderBy('s.position'),
      ).as('steps'),
    ]);
}

type OrderRow = Awaited<ReturnType<ReturnType<typeof selectOrders>['executeTakeFirstOrThrow']>>;

const iso = (at: Date | string) => new Date(at).toISOString();

function toView(o: OrderRow): OrderView {
  // bigint columns come from the driver as strings, and as numbers from json_agg.
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
    fromCart: o.from_cart,
    items: o.items.map((i) => ({
      productId: i.product_id,
      productName: i.product_name,
      unitPrice: Number(i.unit_price),
      quantity: i.quantity,
    })),
    steps: o.steps.map((s) => ({
      step: s.step,
      state: s.state,
      detail: s.detail,
      problemType: s.problem_type,
      attempts: s.attempts,
      updatedAt: iso(s.updated_at),
    })),
    createdAt: iso(o.created_at),
    updatedAt: iso(o.updated_at),
  };
}

/** It is what every poll and every SSE tick reads: one round trip to Postgres. */
export async function findOrder(em: EntityManager, orderId: string): Promise<OrderView> {
  const row = await selectOrders(em.fork()).where('o.id', '=', orderId).executeTakeFirst();
  if (!row) throw new NotFoundError('order', orderId);
  return toView(row);
}

/** A user's newest orders. */
export async function listUserOrders(em: EntityManager, userId: string, limit = 50): Promise<OrderView[]> {
  const rows = await selectOrders(em.fork())
    .where('o.user_id', '=', userId)
    .orderBy('o.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toView);
}

/** Orders in one status, oldest first (the operators' list). */
export async function listOrdersByStatus(
  em: EntityManager,
  status: OrderStatus,
  limit: number,
): Promise<OrderView[]> {
  const rows = await selectOrders(em.fork())
    .where('o.status', '=', status)
    .orderBy('o.id')
    .limit(limit)
    .execute();
  return rows.map(toView);
}

/** The order a user's idempotency key made, if any, with its request's fingerprint. */
export async function findByIdempotencyKey(
  em: EntityManager,
  userId: string,
  idempotencyKey: string,
): Promise<{ id: string; requestHash: string | null } | null> {
  const order = await em
    .fork()
    .findOne(
      OrderEntity,
      { userId, idempotencyKey },
      { fields: ['id', 'requestHash'], disableIdentityMap: true },
    );
  return order && { id: order.id, requestHash: order.requestHash ?? null };
}

/**
 * A new order with its lines and steps: three statements (one per table, not one per row), in the
 * caller's transaction. Every order pays them: Kysely's inserts, not the ORM's unit of work.
 */
export async function insertOrder(
  tx: EntityManager,
  order: {
    id: string;
    userId: string;
    couponId: string | null;
    pointsToUse: number;
    totalAmount: number;
    idempotencyKey: string | null;
    requestHash: string | null;
    fromCart?: boolean;
    lines: (OrderLine & { productName: string; unitPrice: number })[];
    steps: { step: Step; state: StepState }[];
  },
): Promise<void> {
  const kysely = db(tx);
  // A second order under a user's idempotency key is a UniqueConstraintViolationException (place-order.ts).
  await withDriverErrors(tx, () =>
    kysely
      .insertInto('orders')
      .values({
        id: order.id,
        user_id: order.userId,
        status: 'PENDING',
        coupon_id: order.couponId,
        points_to_use: order.pointsToUse,
        total_amount: order.totalAmount,
        idempotency_key: order.idempotencyKey,
        request_hash: order.requestHash,
        from_cart: order.fromCart ?? false,
      })
      .execute(),
  );
  await kysely
    .insertInto('order_items')
    .values(
      order.lines.map((l) => ({
        order_id: order.id,
        product_id: l.productId,
        product_name: l.productName,
        unit_price: l.unitPrice,
        quantity: l.quantity,
      })),
    )
    .execute();
  await kysely
    .insertInto('order_steps')
    .values(
      order.steps.map((s, position) => ({ order_id: order.id, position, step: s.step, state: s.state })),
    )
    .execute();
}

/** Records a step's state; `running` counts an attempt. */
export async function setStepState(
  em: EntityManager,
  orderId: string,
  step: Step,
  state: StepState,
  detail: string | null,
  problemType: string | null,
): Promise<void> {
  await db(em)
    .updateTable('order_steps')
    .set((eb) => ({
      state,
      detail,
      problem_type: problemType,
      updated_at: sql`now()`,
      attempts: eb('attempts', '+', state === 'running' ? 1 : 0),
    }))
    .where('order_id', '=', orderId)
    .where('step', '=', step)
    .execute();
}

/** A step's recorded state, or undefined when the order has no such step. */
export async function findStepState(
  em: EntityManager,
  orderId: string,
  step: Step,
): Promise<StepState | undefined> {
  const row = await em
    .fork()
    .findOne(OrderStepEntity, { orderId, step }, { fields: ['state'], disableIdentityMap: true });
  return row?.state;
}

/** Sets one of the amounts the saga learns (the discount, the points taken). */
export async function setAmount(
  em: EntityManager,
  orderId: string,
  column: 'discount' | 'points_used',
  value: number,
): Promise<void> {
  await db(em.fork())
    .updateTable('orders')
    .set({ [column]: value, updated_at: sql`now()` })
    .where('id', '=', orderId)
    .execute();
}

/**
 * Hands a PENDING order over to a new saga instance, if `from` still drives it:
 * of several reconcilers, one wins.
 */
export async function switchWorkflow(
  em: EntityManager,
  orderId: string,
  from: string,
  to: string,
): Promise<boolean> {
  const won = await db(em.fork())
    .updateTable('orders')
    .set({ workflow_id: to, updated_at: sql`now()` })
    .where('id', '=', orderId)
    .where('status', '=', 'PENDING')
    .where(sql<string>`coalesce(workflow_id, id::text)`, '=', from)
    .returning('id')
    .execute();
  return won.length === 1;
}

/**
 * Ends the order once (an ended order keeps its first ending; NEEDS_ATTENTION
 * may still end): its buyer and whether it came from a cart when this call
 * ended it, else null. A failed order took no points.
 */
export async function endOrder(
  tx: EntityManager,
  orderId: string,
  status: Exclude<OrderStatus, 'PENDING'>,
  reason: string | null,
): Promise<{ userId: string; fromCart: boolean } | null> {
  const updated = await db(tx)
    .updateTable('orders')
    .set((eb) => ({
      status,
      failure_reason: reason,
      updated_at: sql`now()`,
      points_used: status === 'FAILED' ? 0 : eb.ref('points_used'),
    }))
    .where('id', '=', orderId)
    .where('status', 'in', ['PENDING', 'NEEDS_ATTENTION'])
    .returning(['user_id', 'from_cart'])
    .executeTakeFirst();
  return updated ? { userId: updated.user_id, fromCart: updated.from_cart } : null;
}

/**
 * PENDING orders created more than `olderThanMs` ago, with their saga instance
 * and how long nothing happened to them (the order or any step).
 */
export async function pendingOrders(
  em: EntityManager,
  olderThanMs: number,
  limit: number,
): Promise<{ id: string; workflowId: string; idleMs: number }[]> {
  const rows = await db(em.fork())
    .selectFrom('orders as o')
    .innerJoin('order_steps as s', 's.order_id', 'o.id')
    .select([
      'o.id',
      sql<string>`coalesce(o.workflow_id, o.id::text)`.as('workflow_id'),
      sql<string>`extract(epoch from now() - greatest(o.updated_at, max(s.updated_at))) * 1000`.as('idle_ms'),
    ])
    .where('o.status', '=', 'PENDING')
    .where('o.created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
    .groupBy('o.id')
    .orderBy('o.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, workflowId: r.workflow_id, idleMs: Number(r.idle_ms) }));
}

/** How many orders are in each status (read at scrape time). */
export async function countByStatus(em: EntityManager): Promise<{ status: OrderStatus; count: number }[]> {
  const rows = await db(em.fork())
    .selectFrom('orders')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  return rows.map((r) => ({ status: r.status, count: r.n }));
}
