import { describe, expect, test } from '@jest/globals';
import { discountFor, windowState } from './coupons.ts';

describe('discountFor', () => {
  test('When the coupon is a fixed sum, then that sum comes off, never more than the order', () => {
    const fixed = { discountType: 'FIXED' as const, discountValue: 5000, maxDiscount: null };
    expect(discountFor(fixed, 30_000)).toBe(5000);
    expect(discountFor(fixed, 3000)).toBe(3000);
  });

  test('When the coupon is a percentage, then it is rounded down and capped', () => {
    const percent = { discountType: 'PERCENT' as const, discountValue: 15, maxDiscount: 10_000 };
    expect(discountFor(percent, 33_333)).toBe(4999);
    expect(discountFor(percent, 100_000)).toBe(10_000);
  });
});

describe('windowState', () => {
  const coupon = { startsAt: '2026-12-01T00:00:00.000Z', endsAt: '2026-12-02T00:00:00.000Z' };
  test('When now is before, inside or after the window, then it says so (the end is exclusive)', () => {
    expect(windowState(coupon, new Date('2026-11-30T23:59:59Z'))).toBe('NOT_STARTED');
    expect(windowState(coupon, new Date('2026-12-01T00:00:00Z'))).toBe('OPEN');
    expect(windowState(coupon, new Date('2026-12-02T00:00:00Z'))).toBe('EXPIRED');
  });
});
