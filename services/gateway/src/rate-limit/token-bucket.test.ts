import { describe, expect, test } from '@jest/globals';
import { TokenBuckets } from './token-bucket.ts';

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
});
