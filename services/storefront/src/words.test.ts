import { describe, expect, test } from '@jest/globals';
import { billInWords, countdown, failureInWords, type Order, type OrderStep, stepLabel } from './words.ts';

const step = (name: string, state: OrderStep['state'], extra: Partial<OrderStep> = {}): OrderStep => ({
  step: name,
  state,
  detail: null,
  problemType: null,
  attempts: 1,
  ...extra,
});

const order = (overrides: Partial<Order>): Order => ({
  orderId: 'o1',
  userId: 'u1',
  status: 'FAILED',
  totalAmount: 40_000,
  discount: 0,
  pointsUsed: 0,
  paymentAmount: 40_000,
  failureReason: null,
  items: [{ productId: 'p-1', productName: 'Desk lamp', unitPrice: 20_000, quantity: 2 }],
  steps: [],
  createdAt: '2026-11-29T00:00:00.000Z',
  ...overrides,
});

describe('the reason an order failed, in words', () => {
  test('When the stock step was refused as out of stock, then it says so with the product’s name and what was undone', () => {
    const failed = order({
      failureReason: 'stock refused: Product p-1 has 1 left; 2 were asked for.',
      steps: [
        step('useCoupon', 'compensated'),
        step('applyCoupon', 'compensated'),
        step('deductStock', 'failed', {
          detail: 'Product p-1 has 1 left; 2 were asked for.',
          problemType: 'urn:shop-on-dapr:problem:out-of-stock',
        }),
        step('startPayment', 'pending'),
      ],
    });
    expect(failureInWords(failed)).toBe(
      'Out of stock: Desk lamp has 1 left; 2 were asked for. Undone: coupon used, discount applied.',
    );
  });

  test('When the refusal is of a kind the page does not know, then the service’s sentence is shown as it is', () => {
    const failed = order({
      steps: [step('startPayment', 'failed', { detail: 'Card expired.', problemType: 'urn:x:problem:new' })],
    });
    expect(failureInWords(failed)).toBe('Card expired.');
  });

  test('When a compensation gave up, then it says staff will finish it; when the order is not over, nothing', () => {
    const stuck = order({ status: 'NEEDS_ATTENTION', failureReason: 'payment refused; then …' });
    expect(failureInWords(stuck)).toBe(
      'payment refused; then … Our staff has been alerted to finish undoing it.',
    );
    expect(failureInWords(order({ status: 'PENDING' }))).toBeUndefined();
    expect(failureInWords(order({ status: 'COMPLETED' }))).toBeUndefined();
  });
});

describe('labels', () => {
  test('When a step runs, then its label says what is happening; otherwise what it does', () => {
    expect(stepLabel(step('deductPoints', 'running'))).toBe('Deducting points…');
    expect(stepLabel(step('deductPoints', 'done'))).toBe('Points deducted');
  });

  test('When a drop is minutes or hours away, then the countdown reads m:ss or h:mm:ss, and 0:00 once open', () => {
    const now = new Date('2026-11-29T12:00:00Z');
    expect(countdown(new Date('2026-11-29T12:01:05Z'), now)).toBe('1:05');
    expect(countdown(new Date('2026-11-29T14:00:09Z'), now)).toBe('2:00:09');
    expect(countdown(new Date('2026-11-29T11:00:00Z'), now)).toBe('0:00');
  });
});

describe('the bill, in words', () => {
  test('When the order completed, then it says what was paid after the coupon and points', () => {
    expect(
      billInWords(order({ status: 'COMPLETED', discount: 5000, pointsUsed: 3000, paymentAmount: 32_000 })),
    ).toBe('Desk lamp × 2 — total ₩40,000, coupon −₩5,000, points −₩3,000, paid ₩32,000');
  });

  test('When the order failed, then it says nothing was charged, not what would have been paid', () => {
    expect(billInWords(order({ status: 'FAILED' }))).toBe('Desk lamp × 2 — total ₩40,000, nothing charged');
  });

  test('When the order is still under way, then the amount is still to pay', () => {
    expect(billInWords(order({ status: 'PENDING' }))).toBe('Desk lamp × 2 — total ₩40,000, to pay ₩40,000');
  });
});
