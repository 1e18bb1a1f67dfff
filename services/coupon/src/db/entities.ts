import { defineEntity, p } from '@mikro-orm/core';
import type { InferKyselyDB } from '@mikro-orm/postgresql';
import type { EntityManager } from '@shop/platform';

/** The tables of migrations.ts as MikroORM sees them; the columns' names are the migrations'. */

export type DiscountType = 'FIXED' | 'PERCENT';
export type RequestStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'REJECTED';
export type RejectReason = 'SOLD_OUT' | 'ALREADY_ISSUED' | 'NOT_STARTED' | 'EXPIRED';

export const CouponEntity = defineEntity({
  name: 'Coupon',
  tableName: 'coupons',
  properties: {
    id: p.uuid().primary(),
    name: p.string(),
    discountType: p.string().$type<DiscountType>().fieldName('discount_type'),
    /** KRW for FIXED, percent (1-100) for PERCENT. */
    discountValue: p.bigint('number').fieldName('discount_value'),
    /** Cap of a PERCENT discount, KRW. */
    maxDiscount: p.bigint('number').nullable().fieldName('max_discount'),
    quota: p.integer(),
    /** The seats taken, counted by the transactions that issue: the last word on the quota. */
    issued: p.integer().default(0),
    minOrderAmount: p.bigint('number').default(0).fieldName('min_order_amount'),
    startsAt: p.datetime().fieldName('starts_at'),
    endsAt: p.datetime().fieldName('ends_at'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

/** Every accepted request to be issued a coupon (written before the 202): the worker's queue. */
export const IssueRequestEntity = defineEntity({
  name: 'IssueRequest',
  tableName: 'issue_requests',
  properties: {
    id: p.uuid().primary(),
    couponId: p.uuid().fieldName('coupon_id'),
    userId: p.uuid().fieldName('user_id'),
    status: p.string().$type<RequestStatus>(),
    reason: p.string().$type<RejectReason>().nullable(),
    /** The worker's take that holds it (of two takes, only the latest may record its decision). */
    batchId: p.uuid().nullable().fieldName('batch_id'),
    takenBy: p.string().nullable().fieldName('taken_by'),
    leaseUntil: p.datetime().nullable().fieldName('lease_until'),
    claimedAt: p.datetime().nullable().fieldName('claimed_at'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** A seat: the coupon issued to a user, once per coupon and user. */
export const UserCouponEntity = defineEntity({
  name: 'UserCoupon',
  tableName: 'user_coupons',
  properties: {
    id: p.uuid().primary(),
    couponId: p.uuid().fieldName('coupon_id'),
    userId: p.uuid().fieldName('user_id'),
    requestId: p.uuid().fieldName('request_id'),
    status: p.string().$type<'ISSUED' | 'USED'>(),
    orderId: p.uuid().nullable().fieldName('order_id'),
    issuedAt: p.datetime().defaultRaw('now()').fieldName('issued_at'),
    usedAt: p.datetime().nullable().fieldName('used_at'),
  },
});

/** The outcome of useCoupon per order: a repeat is answered from it, and a restore that came first blocks a late use. */
export const CouponUseEntity = defineEntity({
  name: 'CouponUse',
  tableName: 'coupon_uses',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    userCouponId: p.uuid().nullable().fieldName('user_coupon_id'),
    status: p.string().$type<'USED' | 'RESTORED'>(),
    discount: p.bigint('number').default(0),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** The users the coupon service knows of, from UserRegistered. */
export const KnownUserEntity = defineEntity({
  name: 'KnownUser',
  tableName: 'known_users',
  properties: {
    userId: p.uuid().primary().fieldName('user_id'),
    registeredAt: p.datetime().fieldName('registered_at'),
    sourceEventId: p.string().fieldName('source_event_id'),
  },
});

export const couponEntities = [
  CouponEntity,
  IssueRequestEntity,
  UserCouponEntity,
  CouponUseEntity,
  KnownUserEntity,
];

/** The coupon service's tables for Kysely (em.getKysely<CouponDb>()): typed by the entities above. */
export type CouponDb = InferKyselyDB<
  | typeof CouponEntity
  | typeof IssueRequestEntity
  | typeof UserCouponEntity
  | typeof CouponUseEntity
  | typeof KnownUserEntity
>;

/** Kysely bound to `em` (and so to its transaction), for the set-based statements. */
export const db = (em: EntityManager) => em.getKysely<CouponDb>();
