/**
 * The operators' re-drive without the platform, on the saga's own harness
 * (workflow-driver.ts): which compensations it calls, in which order, how it
 * retries, and that it undoes what the saga would.
 */

import { describe, expect, test } from '@jest/globals';
import { compensateOrderWorkflow } from './compensate-order.workflow.ts';
import { COMPENSATION_ATTEMPTS, placeOrderWorkflow } from './place-order.workflow.ts';
import { sagaActivities } from './saga-stand-ins.ts';
import { type Answer, driveWorkflow, failFirst, ok, refused } from './workflow-driver.ts';

const order = { orderId: 'o-1', userId: 'u-1', reason: 'refund gave up (re-driven)' };
const undoes = ['refundPoints', 'cancelPayment', 'restoreStock', 'restoreCoupon'];

const redrive = (answers: Record<string, Answer> = {}, input: object = {}) =>
  driveWorkflow(compensateOrderWorkflow(sagaActivities), { ...order, ...input }, answers);

describe('the re-drive of an order that needs attention', () => {
  test('When every compensation goes through, then all four run, last step first, each with its order, and the order FAILS', async () => {
    const run = await redrive();
    expect(run.calls.map((c) => c.name)).toEqual([...undoes, 'endOrder']);
    expect(run.calls.find((c) => c.name === 'refundPoints')!.arg).toEqual({ orderId: 'o-1', userId: 'u-1' });
    expect(run.calls.find((c) => c.name === 'restoreStock')!.arg).toEqual({ orderId: 'o-1' });
    expect(run.calls.at(-1)!.arg).toMatchObject({ orderId: 'o-1', status: 'FAILED', reason: order.reason });
    expect(run.output).toEqual({ orderId: 'o-1', status: 'FAILED' });
    expect(run.timers).toBe(0);
  });

  test('When a compensation is refused for a while, then it is retried with timers like a transient error and the re-drive goes on', async () => {
    const run = await redrive({
      cancelPayment: (_: unknown, call: number) => (call <= 2 ? refused('the gateway is busy') : ok()),
      restoreStock: failFirst(1, ok()),
    });
    expect(run.calls.filter((c) => c.name === 'cancelPayment')).toHaveLength(3);
    expect(run.calls.filter((c) => c.name === 'restoreStock')).toHaveLength(2);
    expect(run.timers).toBe(3);
    expect(run.output.status).toBe('FAILED');
  });

  test('When a compensation never goes through, then after its budget the order NEEDS_ATTENTION again and nothing after it runs', async () => {
    const run = await redrive(
      { cancelPayment: refused('no such payment provider') },
      { compensationAttempts: 3 },
    );
    expect(run.calls.map((c) => c.name)).toEqual([
      'refundPoints',
      'cancelPayment',
      'cancelPayment',
      'cancelPayment',
      'endOrder',
    ]);
    expect(run.calls.at(-1)!.arg).toMatchObject({ status: 'NEEDS_ATTENTION' });
    expect(run.calls.at(-1)!.arg.reason).toContain('no such payment provider');
    expect(run.output.status).toBe('NEEDS_ATTENTION');
  });

  test('Without a budget of its own, then it takes the saga’s', async () => {
    const run = await redrive({ restoreCoupon: refused('down') });
    expect(run.calls.filter((c) => c.name === 'restoreCoupon')).toHaveLength(COMPENSATION_ATTEMPTS);
  });

  test('It undoes what the saga undoes when its last undoable step fails: the same activities in the same order', async () => {
    const saga = await driveWorkflow(
      placeOrderWorkflow(sagaActivities),
      {
        orderId: 'o-1',
        userId: 'u-1',
        items: [{ productId: 'p-1', quantity: 1 }],
        couponId: 'c-1',
        pointsToUse: 1000,
        totalAmount: 10_000,
      },
      {
        useCoupon: ok({ discount: 1000 }),
        startPayment: ok({ status: 'STARTED' }),
        captureAndComplete: refused('refused'),
      },
    );
    const sagaUndoes = saga.calls.map((c) => c.name).filter((n) => undoes.includes(n));
    const redriven = (await redrive()).calls.map((c) => c.name).filter((n) => n !== 'endOrder');
    expect(sagaUndoes).toEqual(redriven);
    expect(redriven).toEqual(undoes);
  });
});
