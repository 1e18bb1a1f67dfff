import { defineEntity, p } from '@mikro-orm/core';
import type { InferKyselyDB } from '@mikro-orm/postgresql';
import type { EntityManager } from '@shop/platform';

/** The tables of migrations.ts as MikroORM sees them; the columns' names are the migrations'. */

export const ProductStatus = { ACTIVE: 'ACTIVE', INACTIVE: 'INACTIVE' } as const;
export type ProductStatus = (typeof ProductStatus)[keyof typeof ProductStatus];

export const ProductEntity = defineEntity({
  name: 'Product',
  tableName: 'products',
  properties: {
    id: p.uuid().primary(),
    name: p.string(),
    price: p.bigint('number'),
    status: p.string().$type<ProductStatus>(),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** A product's stock: it moves only by conditional updates, never below zero. */
export const StockEntity = defineEntity({
  name: 'Stock',
  tableName: 'stocks',
  properties: {
    productId: p.uuid().primary().fieldName('product_id'),
    quantity: p.bigint('number'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** The outcome of the stock step per order: a repeat is answered from it, and a restore that came first blocks a late deduct. */
export const StockReservationEntity = defineEntity({
  name: 'StockReservation',
  tableName: 'stock_reservations',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    status: p.string().$type<'DEDUCTED' | 'RESTORED'>(),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** What an order took of a product, and what its restore gave back: once each (order, product, kind). */
export const StockMovementEntity = defineEntity({
  name: 'StockMovement',
  tableName: 'stock_movements',
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().fieldName('order_id'),
    productId: p.uuid().fieldName('product_id'),
    kind: p.string().$type<'DEDUCT' | 'RESTORE'>(),
    quantity: p.bigint('number'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

/** A line of a user's cart (one cart per user): a product and how many. */
export const CartLineEntity = defineEntity({
  name: 'CartLine',
  tableName: 'cart_lines',
  properties: {
    userId: p.uuid().primary().fieldName('user_id'),
    productId: p.uuid().primary().fieldName('product_id'),
    quantity: p.integer(),
    addedAt: p.datetime().defaultRaw('now()').fieldName('added_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

export const productEntities = [
  ProductEntity,
  StockEntity,
  StockReservationEntity,
  StockMovementEntity,
  CartLineEntity,
];

/** The product service's tables for Kysely (em.getKysely<ProductDb>()): typed by the entities above. */
export type ProductDb = InferKyselyDB<
  | typeof ProductEntity
  | typeof StockEntity
  | typeof StockReservationEntity
  | typeof StockMovementEntity
  | typeof CartLineEntity
>;

/** Kysely bound to `em` (and so to its transaction), for the conditional stock updates. */
export const db = (em: EntityManager) => em.getKysely<ProductDb>();
