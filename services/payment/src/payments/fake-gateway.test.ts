import { randomUUID } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { FakeGateway, GatewayError, parseFault } from './fake-gateway.ts';

const gateway = () => new FakeGateway({ timeoutMs: 10 });
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (err: unknown) => (err instanceof GatewayError ? err.code : `untyped: ${String(err)}`),
  );

describe('FakeGateway', () => {
  test('When an order is authorised twice, then the second call answers the first authorisation', async () => {
    const g = gateway();
    const orderId = randomUUID();
    const first = await g.authorize(orderId, undefined);
    expect(await g.authorize(orderId, undefined)).toBe(first);
  });

  test('When the answer is lost, then asking again answers the authorisation that was made', async () => {
    const g = gateway();
    const orderId = randomUUID();
    expect(await codeOf(g.authorize(orderId, { kind: 'no-answer' }))).toBe('no-answer');
    const again = await g.authorize(orderId, { kind: 'no-answer' });
    expect(await g.authorize(orderId, undefined)).toBe(again);
  });

  test('When it refuses, then the error has a code: declined, voided, capture-refused', async () => {
    const g = gateway();
    const declined = randomUUID();
    expect(await codeOf(g.authorize(declined, { kind: 'fail' }))).toBe('declined');
    expect(await codeOf(g.authorize(declined, undefined))).toBe('declined');

    const voided = randomUUID();
    await g.void(voided);
    expect(await codeOf(g.authorize(voided, undefined))).toBe('voided');

    const captured = randomUUID();
    await g.authorize(captured, undefined);
    expect(await codeOf(g.capture(captured, { kind: 'fail-capture' }))).toBe('capture-refused');
    expect(await codeOf(g.capture(captured, undefined))).toBe('no error');
  });

  test('When a fault header is read, then only the known faults count', () => {
    expect(parseFault('no-answer')).toEqual({ kind: 'no-answer' });
    expect(parseFault('slow:250')).toEqual({ kind: 'slow', ms: 250 });
    expect(parseFault('explode')).toBeUndefined();
  });
});
