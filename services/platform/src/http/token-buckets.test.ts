import { describe, expect, test } from '@jest/globals';
import { TokenBuckets } from './token-buckets.ts';

describe('TokenBuckets', () => {
  test('When a key spends its burst, then it waits for the rate, and other keys are not affected', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(1);
    expect(buckets.take('b')).toBe(0);
    now = 500; // half a second: one more token at 2 a second
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
    now = 10_000; // refilled up to the burst, never beyond
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([
      0, 0, 0, 1,
    ]);
  });

  test('When a client rotates keys faster than they refill, then the table stays bounded, dropping the least recently seen', () => {
    const now = 0; // no time passes: no bucket ever fills up again
    const buckets = new TokenBuckets(1, 5, () => now, 100);
    for (let i = 0; i < 1_000; i++) buckets.take(`address-${i}`);
    expect(buckets.size).toBe(100);
    // A key seen again is kept (its bucket as it was), the oldest goes instead.
    buckets.take('address-900');
    buckets.take('a-new-one');
    expect(buckets.size).toBe(100);
    for (let i = 0; i < 4; i++) buckets.take('address-900');
    expect(buckets.take('address-900')).toBe(1); // its burst of 5 is spent: it was not reset
  });
});
