import { describe, expect, test } from '@jest/globals';
import { type OrderRecords, reconcileOrder } from './invariants.ts';

const line = { product_id: 'p-1', quantity: 1, unit_price: 10_000 };
/** A 10,000 KRW order with a 5,000 KRW coupon, 5,000 points taken and 0 paid, as every service records it. */
const completed = (): OrderRecords => ({
  order: {
    id: 'o-1',
    status: 'COMPLETED',
    total_amount: 10_000,
    discount: 5000,
    points_to_use: 10_000,
    points_used: 5000,
    coupon_id: 'c-1',
    items: [line],
  },
  movements: [{ product_id: 'p-1', quantity: 1, kind: 'DEDUCT' }],
  payments: [{ status: 'COMPLETED', amount: 0 }],
  captures: 1,
  ledger: [{ kind: 'USE', amount: -5000 }],
  couponUse: { status: 'USED', discount: 5000 },
});

describe("reconcileOrder: each service's own records against the order", () => {
  test('When every service agrees, then there is nothing to report', () => {
    expect(reconcileOrder(completed())).toEqual([]);
  });

  test('When all the points asked for were taken although the coupon left less to pay, then it is reported', () => {
    const r = completed();
    r.ledger = [{ kind: 'USE', amount: -10_000 }];
    r.order.points_used = 10_000;
    expect(reconcileOrder(r)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/took 10000 points, more than the 5000 KRW left/),
        expect.stringMatching(/points taken 10000 \+ paid 0 \+ discount 5000 ≠ its lines' total 10000/),
      ]),
    );
  });

  test('When the payment was captured twice, or a line was deducted twice, then it is reported', () => {
    const r = completed();
    r.captures = 2;
    r.movements = [...r.movements, { product_id: 'p-1', quantity: 1, kind: 'DEDUCT' }];
    const found = reconcileOrder(r);
    expect(found).toContainEqual(expect.stringMatching(/captured 2 times/));
    expect(found).toContainEqual(expect.stringMatching(/stock movements do not match/));
  });

  test('When the order shows other amounts than the services took, then it is reported', () => {
    const r = completed();
    r.order.discount = 0;
    expect(reconcileOrder(r)).toContainEqual(expect.stringMatching(/shows discount 0 .* took 5000/));
  });

  test('When a failed order still holds stock, points, a live payment or a used coupon, or shows points used, then each is reported', () => {
    const r = completed();
    r.order.status = 'FAILED';
    r.payments = [{ status: 'STARTED', amount: 0 }];
    const found = reconcileOrder(r);
    expect(found).toHaveLength(5);
    expect(found).toContainEqual(expect.stringMatching(/shows 5000 points used/));
    r.movements.push({ product_id: 'p-1', quantity: 1, kind: 'RESTORE' });
    r.ledger.push({ kind: 'REFUND', amount: 5000 });
    r.payments = [{ status: 'CANCELLED', amount: 0 }];
    r.couponUse = { status: 'RESTORED', discount: 5000 };
    r.order.points_used = 0;
    expect(reconcileOrder(r)).toEqual([]);
  });

  test('When an order is still PENDING, then it is reported', () => {
    const r = completed();
    r.order.status = 'PENDING';
    expect(reconcileOrder(r)).toEqual(['order o-1 PENDING: not finished']);
  });

  test('When the capture’s event may have been swept by the outbox retention, then none found is no violation, and two still are', () => {
    const r = completed();
    r.captures = 0;
    expect(reconcileOrder(r)).toEqual(['order o-1 COMPLETED: the payment was captured 0 times']);
    r.capturesMaybeSwept = true;
    expect(reconcileOrder(r)).toEqual([]);
    r.captures = 2;
    expect(reconcileOrder(r)).toEqual(['order o-1 COMPLETED: the payment was captured 2 times']);
  });
});
