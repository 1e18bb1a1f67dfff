import { type InferEntity, LockMode } from '@mikro-orm/core';
import {
  addToOutbox,
  BusinessRuleError,
  type EntityManager,
  forwardOnce,
  newEvent,
  type Standing,
  undoOnce,
} from '@shop/platform';
import { discountFor, findCoupon, windowState } from '../coupons/coupons.ts';
import { CouponUseEntity, db, UserCouponEntity } from '../db/entities.ts';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';

export interface CouponUse {
  orderId: string;
  status: 'USED' | 'RESTORED';
  userCouponId: string | null;
  discount: number;
}

type UseRecord = InferEntity<typeof CouponUseEntity>;

const toUse = (r: UseRecord): CouponUse => ({
  orderId: r.orderId,
  status: r.status,
  userCouponId: r.userCouponId ?? null,
  discount: r.discount,
});

const refuse = (slug: string, title: string, detail: string, ext: Record<string, unknown>) =>
  new BusinessRuleError(slug, title, detail, ext);

/** Where the order's coupon step stands: its coupon_uses row, USED or RESTORED, if any. */
async function standing(tx: EntityManager, orderId: string): Promise<Standing<UseRecord, UseRecord>> {
  const use = await tx.findOne(CouponUseEntity, orderId);
  if (!use) return { state: 'none' };
  return use.status === 'USED' ? { state: 'done', done: use } : { state: 'undone', undone: use };
}

const orderKey = (orderId: string) => `coupon:${orderId}`;

/**
 * Saga step 1: the user's coupon becomes USED by this order, and its discount
 * on the order amount is returned. Refused when the user does not own it, it
 * is used, outside its window, or the order is under its minimum. Idempotent
 * by orderId; after a restore (before or after the use) it is refused.
 */
export async function useCoupon(
  em: EntityManager,
  input: { orderId: string; userId: string; couponId: string; orderAmount: number },
): Promise<CouponUse> {
  return em.fork().transactional((tx) =>
    forwardOnce(tx, orderKey(input.orderId), () => standing(tx, input.orderId), {
      replay: toUse,
      // Restored before the use (the compensation came first) or after it (a
      // re-run of a half-compensated saga): the coupon is not this order's any more.
      refuse: () =>
        refuse(
          'coupon-use-cancelled',
          'The coupon use of this order was cancelled',
          `Order ${input.orderId} was compensated; it will not use a coupon now.`,
          { orderId: input.orderId },
        ),
      run: () => spend(tx, input),
    }),
  );
}

/** Checks the order against the coupon's rules and marks the user's coupon USED by it. */
async function spend(
  tx: EntityManager,
  input: { orderId: string; userId: string; couponId: string; orderAmount: number },
): Promise<CouponUse> {
  const ext = { couponId: input.couponId, userId: input.userId };
  const owned = await tx.findOne(
    UserCouponEntity,
    { couponId: input.couponId, userId: input.userId },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  if (!owned)
    throw refuse(
      'coupon-not-owned',
      'The user does not have this coupon',
      `User ${input.userId} was not issued coupon ${input.couponId}.`,
      ext,
    );
  if (owned.status === 'USED')
    throw refuse(
      'coupon-already-used',
      'The coupon was already used',
      `Coupon ${input.couponId} of user ${input.userId} is used.`,
      ext,
    );
  const coupon = (await findCoupon(tx, input.couponId))!;
  const window = windowState(coupon);
  if (window !== 'OPEN') {
    throw refuse(
      'coupon-expired',
      'The coupon cannot be used now',
      `Coupon ${input.couponId} is ${window === 'EXPIRED' ? 'expired' : 'not valid yet'}.`,
      { ...ext, window },
    );
  }
  if (input.orderAmount < coupon.minOrderAmount) {
    throw refuse(
      'order-below-minimum',
      'The order is under the coupon minimum',
      `Coupon ${input.couponId} needs an order of ${coupon.minOrderAmount} KRW; this one is ${input.orderAmount} KRW.`,
      { ...ext, minOrderAmount: coupon.minOrderAmount },
    );
  }
  const discount = discountFor(coupon, input.orderAmount);
  owned.status = 'USED';
  owned.orderId = input.orderId;
  owned.usedAt = new Date();
  const use = tx.create(CouponUseEntity, {
    orderId: input.orderId,
    userCouponId: owned.id,
    status: 'USED',
    discount,
    updatedAt: new Date(),
  });
  await addToOutbox(
    tx,
    newEvent({
      topic: COUPON_EVENTS,
      type: CouponEventType.CouponUsed,
      source: 'coupon',
      subject: input.orderId,
      data: { orderId: input.orderId, couponId: input.couponId, userId: input.userId },
    }),
  );
  return toUse(use);
}

/**
 * Compensation of step 1: the coupon used by this order is ISSUED again, once.
 * Before any use it records the order as restored, so that a late use is refused.
 */
export async function restoreCoupon(em: EntityManager, orderId: string): Promise<CouponUse> {
  return em.fork().transactional((tx) =>
    undoOnce(tx, orderKey(orderId), () => standing(tx, orderId), {
      replay: toUse,
      tombstone: async () =>
        toUse(
          tx.create(CouponUseEntity, { orderId, status: 'RESTORED', discount: 0, updatedAt: new Date() }),
        ),
      run: (earlier) => giveBack(tx, earlier),
    }),
  );
}

/** The user's coupon ISSUED again, and the order's use RESTORED. */
async function giveBack(tx: EntityManager, earlier: UseRecord): Promise<CouponUse> {
  const { orderId } = earlier;
  if (earlier.userCouponId)
    await tx.nativeUpdate(
      UserCouponEntity,
      { id: earlier.userCouponId, orderId },
      { status: 'ISSUED', orderId: null, usedAt: null },
    );
  earlier.status = 'RESTORED';
  earlier.updatedAt = new Date();
  await addToOutbox(
    tx,
    newEvent({
      topic: COUPON_EVENTS,
      type: CouponEventType.CouponRestored,
      source: 'coupon',
      subject: orderId,
      data: { orderId, userCouponId: earlier.userCouponId },
    }),
  );
  return toUse(earlier);
}

export interface UserCoupon {
  id: string;
  couponId: string;
  name: string;
  status: 'ISSUED' | 'USED';
  orderId: string | null;
  issuedAt: string;
}

/** A user's coupons with their names: one statement (a join). */
export async function listUserCoupons(em: EntityManager, userId: string): Promise<UserCoupon[]> {
  const rows = await db(em.fork())
    .selectFrom('user_coupons as uc')
    .innerJoin('coupons as c', 'c.id', 'uc.coupon_id')
    .select(['uc.id', 'uc.coupon_id', 'c.name', 'uc.status', 'uc.order_id', 'uc.issued_at'])
    .where('uc.user_id', '=', userId)
    .orderBy('uc.issued_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    couponId: r.coupon_id,
    name: r.name,
    status: r.status,
    orderId: r.order_id,
    issuedAt: new Date(r.issued_at).toISOString(),
  }));
}
