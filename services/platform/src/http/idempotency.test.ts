import { describe, expect, test } from '@jest/globals';
import { IdempotencyKeyReusedError, requestFingerprint } from './idempotency.ts';

describe('requestFingerprint', () => {
  test('is the same for the same request whatever the order of its keys', () => {
    const a = requestFingerprint({ userId: 'u', items: [{ productId: 'p', quantity: 2 }], pointsToUse: 0 });
    const b = requestFingerprint({ pointsToUse: 0, items: [{ quantity: 2, productId: 'p' }], userId: 'u' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  test('differs when any value differs, including inside arrays and their order', () => {
    const base = { userId: 'u', items: [{ productId: 'p', quantity: 2 }], pointsToUse: 0 };
    const seen = new Set([
      requestFingerprint(base),
      requestFingerprint({ ...base, pointsToUse: 1 }),
      requestFingerprint({ ...base, items: [{ productId: 'p', quantity: 3 }] }),
      requestFingerprint({ ...base, couponId: 'c' }),
      requestFingerprint({ ...base, items: [...base.items, { productId: 'q', quantity: 1 }] }),
      requestFingerprint({ ...base, items: [{ productId: 'q', quantity: 1 }, ...base.items] }),
    ]);
    expect(seen.size).toBe(6);
  });

  test('ignores undefined fields, as JSON does', () => {
    expect(requestFingerprint({ a: 1, b: undefined })).toBe(requestFingerprint({ a: 1 }));
  });
});

describe('IdempotencyKeyReusedError', () => {
  test('is a 422 problem with a stable type', () => {
    const err = new IdempotencyKeyReusedError('key-12345');
    expect(err.status).toBe(422);
    expect(err.type).toBe('urn:shop-on-dapr:problem:idempotency-key-reused');
  });
});
