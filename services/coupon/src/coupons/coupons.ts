import { type EntityManager, NotFoundError, uuidv7 } from '@shop/platform';

export type DiscountType = 'FIXED' | 'PERCENT';

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

interface CouponRow {
  id: string;
  name: string;
  discount_type: DiscountType;
  discount_value: string;
  max_discount: string | null;
  quota: number;
  min_order_amount: string;
  starts_at: string;
  ends_at: string;
  created_at: string;
}

const iso = (t: string) => new Date(t).toISOString();

const toCoupon = (r: CouponRow): Coupon => ({
  id: r.id,
  name: r.name,
  discountType: r.discount_type,
  discountValue: Number(r.discount_value),
  maxDiscount: r.max_discount === null ? null : Number(r.max_discount),
  quota: r.quota,
  minOrderAmount: Number(r.min_order_amount),
  startsAt: iso(r.starts_at),
  endsAt: iso(r.ends_at),
  createdAt: iso(r.created_at),
});

export type NewCoupon = Omit<Coupon, 'id' | 'createdAt' | 'maxDiscount'> & { maxDiscount?: number | null };

export async function createCoupon(em: EntityManager, input: NewCoupon): Promise<Coupon> {
  const [row] = await em.fork().execute<CouponRow[]>(
    `insert into coupons (id, name, discount_type, discount_value, max_discount, quota, min_order_amount, starts_at, ends_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
    [
      uuidv7(),
      input.name,
      input.discountType,
      input.discountValue,
      input.maxDiscount ?? null,
      input.quota,
      input.minOrderAmount,
      input.startsAt,
      input.endsAt,
    ],
  );
  return toCoupon(row!);
}

export async function findCoupon(em: EntityManager, id: string): Promise<Coupon | undefined> {
  const [row] = await em.fork().execute<CouponRow[]>('select * from coupons where id = ?', [id]);
  return row ? toCoupon(row) : undefined;
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
  const rows = await em
    .fork()
    .execute<(CouponRow & { issued: number })[]>(
      'select * from coupons where ends_at > now() order by created_at desc, id desc limit ?',
      [limit],
    );
  const now = new Date();
  return rows.map((r) => {
    const coupon = toCoupon(r);
    return { ...coupon, issued: Number(r.issued), window: windowState(coupon, now) };
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
