import { addToOutbox, BusinessRuleError, type EntityManager, newEvent } from '@shop/platform';
import { discountFor, findCoupon, windowState } from '../coupons/coupons.ts';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';

export interface CouponUse {
  orderId: string;
  status: 'USED' | 'RESTORED';
  userCouponId: string | null;
  discount: number;
}

interface UseRow {
  order_id: string;
  user_coupon_id: string | null;
  status: 'USED' | 'RESTORED';
  discount: string;
}

const toUse = (r: UseRow): CouponUse => ({
  orderId: r.order_id,
  status: r.status,
  userCouponId: r.user_coupon_id,
  discount: Number(r.discount),
});

const refuse = (slug: string, title: string, detail: string, ext: Record<string, unknown>) =>
  new BusinessRuleError(slug, title, detail, ext);

async function lockOrder(tx: EntityManager, orderId: string): Promise<UseRow | undefined> {
  await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`coupon:${orderId}`]);
  const [row] = await tx.execute<UseRow[]>('select * from coupon_uses where order_id = ?', [orderId]);
  return row;
}

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
  return em.fork().transactional(async (tx) => {
    const earlier = await lockOrder(tx, input.orderId);
    if (earlier?.status === 'USED') return toUse(earlier);
    // Restored before the use (the compensation came first) or after it (a
    // re-run of a half-compensated saga): the coupon is not this order's any more.
    if (earlier) {
      throw refuse(
        'coupon-use-cancelled',
        'The coupon use of this order was cancelled',
        `Order ${input.orderId} was compensated; it will not use a coupon now.`,
        { orderId: input.orderId },
      );
    }
    const ext = { couponId: input.couponId, userId: input.userId };
    const [owned] = await tx.execute<{ id: string; status: 'ISSUED' | 'USED' }[]>(
      'select id, status from user_coupons where coupon_id = ? and user_id = ? for update',
      [input.couponId, input.userId],
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
    await tx.execute("update user_coupons set status = 'USED', order_id = ?, used_at = now() where id = ?", [
      input.orderId,
      owned.id,
    ]);
    const [use] = await tx.execute<UseRow[]>(
      "insert into coupon_uses (order_id, user_coupon_id, status, discount) values (?, ?, 'USED', ?) returning *",
      [input.orderId, owned.id, discount],
    );
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
    return toUse(use!);
  });
}

/**
 * Compensation of step 1: the coupon used by this order is ISSUED again, once.
 * Before any use it records the order as restored, so that a late use is refused.
 */
export async function restoreCoupon(em: EntityManager, orderId: string): Promise<CouponUse> {
  return em.fork().transactional(async (tx) => {
    const earlier = await lockOrder(tx, orderId);
    if (!earlier) {
      const [tombstone] = await tx.execute<UseRow[]>(
        "insert into coupon_uses (order_id, status) values (?, 'RESTORED') returning *",
        [orderId],
      );
      return toUse(tombstone!);
    }
    if (earlier.status === 'RESTORED') return toUse(earlier);
    await tx.execute(
      "update user_coupons set status = 'ISSUED', order_id = null, used_at = null where id = ? and order_id = ?",
      [earlier.user_coupon_id, orderId],
    );
    const [restored] = await tx.execute<UseRow[]>(
      "update coupon_uses set status = 'RESTORED', updated_at = now() where order_id = ? returning *",
      [orderId],
    );
    await addToOutbox(
      tx,
      newEvent({
        topic: COUPON_EVENTS,
        type: CouponEventType.CouponRestored,
        source: 'coupon',
        subject: orderId,
        data: { orderId, userCouponId: earlier.user_coupon_id },
      }),
    );
    return toUse(restored!);
  });
}

export interface UserCoupon {
  id: string;
  couponId: string;
  name: string;
  status: 'ISSUED' | 'USED';
  orderId: string | null;
  issuedAt: string;
}

export async function listUserCoupons(em: EntityManager, userId: string): Promise<UserCoupon[]> {
  const rows = await em.fork().execute<
    {
      id: string;
      coupon_id: string;
      name: string;
      status: 'ISSUED' | 'USED';
      order_id: string | null;
      issued_at: string;
    }[]
  >(
    'select uc.id, uc.coupon_id, c.name, uc.status, uc.order_id, uc.issued_at from user_coupons uc join coupons c on c.id = uc.coupon_id where uc.user_id = ? order by uc.issued_at desc',
    [userId],
  );
  return rows.map((r) => ({
    id: r.id,
    couponId: r.coupon_id,
    name: r.name,
    status: r.status,
    orderId: r.order_id,
    issuedAt: new Date(r.issued_at).toISOString(),
  }));
}
