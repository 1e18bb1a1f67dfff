import { defineEntity, p } from '@mikro-orm/core';
import type { InferKyselyDB } from '@mikro-orm/postgresql';
import type { EntityManager } from '@shop/platform';
import type { OrderRecord } from '../export/order-record.ts';
import type { OrderStatus, Step, StepState } from '../orders/order.model.ts';

/** The tables of db/migrations.ts as MikroORM sees them; the columns' names are the migrations'. */
export const OrderEntity = defineEntity({
  name: 'Order',
  tableName: 'orders',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    status: p.string().$type<OrderStatus>(),
    couponId: p.uuid().nullable().fieldName('coupon_id'),
    pointsToUse: p.bigint('number').fieldName('points_to_use'),
    totalAmount: p.bigint('number').fieldName('total_amount'),
    discount: p.bigint('number').default(0),
    pointsUsed: p.bigint('number').default(0).fieldName('points_used'),
    failureReason: p.string().nullable().fieldName('failure_reason'),
    idempotencyKey: p.string().nullable().fieldName('idempotency_key'),
    requestHash: p.string().nullable().fieldName('request_hash'),
    /** The saga instance driving the order; null: the order's own id (its first run). */
    workflowId: p.string().nullable().fieldName('workflow_id'),
    /** Placed from the buyer's cart, which loses what was bought when the order completes. */
    fromCart: p.boolean().default(false).fieldName('from_cart'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** A line with the product's name and price copied in at order time: never joined later. */
export const OrderItemEntity = defineEntity({
  name: 'OrderItem',
  tableName: 'order_items',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    productId: p.uuid().primary().fieldName('product_id'),
    productName: p.string().fieldName('product_name'),
    unitPrice: p.bigint('number').fieldName('unit_price'),
    quantity: p.integer(),
  },
});

/** The saga's progress, one row per step. */
export const OrderStepEntity = defineEntity({
  name: 'OrderStep',
  tableName: 'order_steps',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    step: p.string().$type<Step>().primary(),
    position: p.integer(),
    state: p.string().$type<StepState>(),
    detail: p.string().nullable(),
    problemType: p.string().nullable().fieldName('problem_type'),
    attempts: p.integer().default(0),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

export type TopUpStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'NEEDS_ATTENTION';

/** A customer's paid top-up of points (db/migrations.ts, TopUps). */
export const TopUpEntity = defineEntity({
  name: 'TopUp',
  tableName: 'top_ups',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    /** Points bought, paid for 1 KRW each. */
    amount: p.bigint('number'),
    status: p.string().$type<TopUpStatus>(),
    failureReason: p.string().nullable().fieldName('failure_reason'),
    idempotencyKey: p.string().nullable().fieldName('idempotency_key'),
    requestHash: p.string().nullable().fieldName('request_hash'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

export type ExportStatus = 'PENDING' | 'SENT' | 'DEAD';

/** A completed order's record on its way to the data platform (db/migrations.ts, OrderExports). */
export const OrderExportEntity = defineEntity({
  name: 'OrderExport',
  tableName: 'order_exports',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    record: p.json<OrderRecord>(),
    status: p.string().$type<ExportStatus>().default('PENDING'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()').fieldName('next_attempt_at'),
    lastError: p.string().nullable().fieldName('last_error'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    sentAt: p.datetime().nullable().fieldName('sent_at'),
  },
});

export const orderEntities = [OrderEntity, OrderItemEntity, OrderStepEntity, TopUpEntity, OrderExportEntity];

/** The order service's tables for Kysely (em.getKysely<OrderDb>()): typed by the entities above. */
export type OrderDb = InferKyselyDB<
  | typeof OrderEntity
  | typeof OrderItemEntity
  | typeof OrderStepEntity
  | typeof TopUpEntity
  | typeof OrderExportEntity
>;

/** Kysely bound to `em` (and so to its transaction). */
export const db = (em: EntityManager) => em.getKysely<OrderDb>();
