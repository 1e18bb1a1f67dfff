import { describe, expect, test } from '@jest/globals';
import { traceIdFrom } from './logger.ts';

describe('traceIdFrom', () => {
  test('When Dapr sends a W3C traceparent, then its trace id is read', () => {
    expect(traceIdFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
  });

  test('When the header is absent or malformed, then there is no trace id', () => {
    expect(traceIdFrom(undefined)).toBeUndefined();
    expect(traceIdFrom('garbage')).toBeUndefined();
  });
});
