import type { InferEntity } from '@mikro-orm/core';
import { type EntityManager, NotFoundError, uuidv7 } from '@shop/platform';
import { CouponEntity, type DiscountType } from '../db/entities.ts';

export type { DiscountType };

export interface Coupon {
  id: string;
  name: string;
  discountType: DiscountType;
  /** KRW for FIXED, percent (1-100) for PERCENT. */
  discountValue: number;
  /** Cap of a PERCENT discount, KRW. */
  maxDiscount: number | null;
  quota: number;
  minOrderAmount: number;
  startsAt: string;
  endsAt: string;
  createdAt: string;
}

type CouponRecord = InferEntity<typeof CouponEntity>;

const toCoupon = (c: CouponRecord): Coupon => ({
  id: c.id,
  name: c.name,
  discountType: c.discountType,
  discountValue: c.discountValue,
  maxDiscount: c.maxDiscount ?? null,
  quota: c.quota,
  minOrderAmount: c.minOrderAmount,
  startsAt: c.startsAt.toISOString(),
  endsAt: c.endsAt.toISOString(),
  createdAt: c.createdAt.toISOString(),
});

export type NewCoupon = Omit<Coupon, 'id' | 'createdAt' | 'maxDiscount'> & { maxDiscount?: number | null };

export async function createCoupon(em: EntityManager, input: NewCoupon): Promise<Coupon> {
  const fork = em.fork();
  const coupon = fork.create(CouponEntity, {
    ...input,
    id: uuidv7(),
    maxDiscount: input.maxDiscount ?? null,
    startsAt: new Date(input.startsAt),
    endsAt: new Date(input.endsAt),
    createdAt: new Date(),
  });
  await fork.flush();
  return toCoupon(coupon);
}

export async function findCoupon(em: EntityManager, id: string): Promise<Coupon | undefined> {
  const coupon = await em.fork().findOne(CouponEntity, id, { disableIdentityMap: true });
  return coupon ? toCoupon(coupon) : undefined;
}

/**
 * Coupon definitions kept in memory once read: a definition never changes
 * after it is created (there is no update), and every request of a spike
 * needs its coupon, so that a read per request would be a query per request.
 * An unknown id is not remembered (it may be created a moment later).
 */
export class CouponDefinitions {
  private readonly known = new Map<string, Coupon>();

  async find(em: EntityManager, id: string): Promise<Coupon | undefined> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const coupon = await findCoupon(em, id);
    if (coupon) this.known.set(id, coupon);
    return coupon;
  }
}

/** A coupon as a shop window shows it: with the seats taken so far and where its window stands. */
export interface ListedCoupon extends Coupon {
  issued: number;
  window: 'NOT_STARTED' | 'OPEN' | 'EXPIRED';
}

/**
 * The coupons a customer can still ask for — open or coming (a drop's
 * countdown) — newest first (the drop just announced on top). `issued` is the seats taken as the issuing
 * transactions counted them, so a drop shows its quota running out.
 */
export async function listCurrentCoupons(em: EntityManager, limit = 20): Promise<ListedCoupon[]> {
  const now = new Date();
  const coupons = await em
    .fork()
    .find(
      CouponEntity,
      { endsAt: { $gt: now } },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit, disableIdentityMap: true },
    );
  return coupons.map((c) => {
    const coupon = toCoupon(c);
    return { ...coupon, issued: c.issued, window: windowState(coupon, now) };
  });
}

export async function getCoupon(em: EntityManager, id: string): Promise<Coupon> {
  const coupon = await findCoupon(em, id);
  if (!coupon) throw new NotFoundError('coupon', id);
  return coupon;
}

/** The discount on an order amount: a fixed sum, or a capped percentage, never more than the order. */
export function discountFor(
  coupon: Pick<Coupon, 'discountType' | 'discountValue' | 'maxDiscount'>,
  orderAmount: number,
): number {
  const raw =
    coupon.discountType === 'FIXED'
      ? coupon.discountValue
      : Math.floor((orderAmount * coupon.discountValue) / 100);
  const capped = coupon.maxDiscount === null ? raw : Math.min(raw, coupon.maxDiscount);
  return Math.min(capped, orderAmount);
}

/** Where `now` stands against the validity window. */
export function windowState(
  coupon: Pick<Coupon, 'startsAt' | 'endsAt'>,
  now = new Date(),
): 'NOT_STARTED' | 'OPEN' | 'EXPIRED' {
  if (now < new Date(coupon.startsAt)) return 'NOT_STARTED';
  if (now >= new Date(coupon.endsAt)) return 'EXPIRED';
  return 'OPEN';
}
