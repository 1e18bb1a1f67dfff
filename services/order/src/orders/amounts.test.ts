import { describe, expect, test } from '@jest/globals';
import { settleBill } from './amounts.ts';

describe('settleBill', () => {
  test('takes only the points that are left to pay after the coupon (10,000 order, 5,000 coupon, 10,000 points)', () => {
    expect(settleBill(10_000, 5000, 10_000)).toEqual({
      total: 10_000,
      discount: 5000,
      pointsUsed: 5000,
      paymentAmount: 0,
    });
  });

  test('takes every point asked for when they do not cover the rest', () => {
    expect(settleBill(40_000, 5000, 3000)).toEqual({
      total: 40_000,
      discount: 5000,
      pointsUsed: 3000,
      paymentAmount: 32_000,
    });
  });

  test('never lets a discount larger than the total make the payment or the points negative', () => {
    expect(settleBill(3000, 5000, 1000)).toEqual({
      total: 3000,
      discount: 3000,
      pointsUsed: 0,
      paymentAmount: 0,
    });
  });

  test('always adds up to the total', () => {
    for (const [total, discount, points] of [
      [0, 0, 0],
      [1, 0, 5],
      [15_000, 0, 0],
      [15_000, 15_000, 15_000],
      [99_999, 12_345, 50_000],
    ] as const) {
      const bill = settleBill(total, discount, points);
      expect(bill.discount + bill.pointsUsed + bill.paymentAmount).toBe(total);
      expect(Math.min(bill.discount, bill.pointsUsed, bill.paymentAmount)).toBeGreaterThanOrEqual(0);
    }
  });
});
