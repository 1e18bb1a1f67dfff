/**
 * The top-up's decisions without the platform (see workflow-driver.ts): the
 * points are credited only after the capture, a refusal before it cancels
 * the payment, and after it the credit only goes forward.
 */
import { describe, expect, test } from '@jest/globals';
import { STEP_ATTEMPTS } from './place-order.workflow.ts';
import { type TopUpActivities, topUpWorkflow } from './top-up.workflow.ts';
import {
  type Answer,
  driveWorkflow,
  failFirst,
  namedActivities,
  ok,
  refused,
  transient,
} from './workflow-driver.ts';

const activities = namedActivities<TopUpActivities>([
  'startTopUpPayment',
  'topUpPaymentStatus',
  'captureTopUpPayment',
  'cancelTopUpPayment',
  'creditTopUp',
  'endTopUp',
]);

const happy: Record<string, Answer> = {
  startTopUpPayment: ok({ status: 'STARTED' }),
  captureTopUpPayment: ok({ status: 'COMPLETED' }),
  creditTopUp: ok(),
};

const runTopUp = (answers: Record<string, Answer> = {}) =>
  driveWorkflow(
    topUpWorkflow(activities),
    { topUpId: 't-1', userId: 'u-1', amount: 5000 },
    { ...happy, ...answers },
  );
const called = (run: { calls: { name: string }[] }) => run.calls.map((c) => c.name);

describe('a paid top-up', () => {
  test('When the payment is captured, then the points are credited after it, for the amount paid', async () => {
    const run = await runTopUp();
    expect(called(run)).toEqual(['startTopUpPayment', 'captureTopUpPayment', 'creditTopUp']);
    expect(run.calls[0]!.arg).toMatchObject({ topUpId: 't-1', amount: 5000 });
    expect(run.calls[2]!.arg).toMatchObject({ topUpId: 't-1', userId: 'u-1', amount: 5000 });
    expect(run.output).toEqual({ topUpId: 't-1', status: 'COMPLETED' });
  });

  test('When the payment is declined, then it is cancelled, the top-up fails and nothing is captured or credited', async () => {
    const run = await runTopUp({ startTopUpPayment: refused('declined') });
    expect(called(run)).toEqual(['startTopUpPayment', 'cancelTopUpPayment', 'endTopUp']);
    expect(run.calls[2]!.arg).toMatchObject({ reason: 'payment refused: declined' });
    expect(run.output).toMatchObject({ status: 'FAILED' });
  });

  test('When the capture is refused, then the payment is cancelled and nothing is credited', async () => {
    const run = await runTopUp({ captureTopUpPayment: refused('capture refused') });
    expect(called(run)).toEqual([
      'startTopUpPayment',
      'captureTopUpPayment',
      'cancelTopUpPayment',
      'endTopUp',
    ]);
    expect(run.output).toMatchObject({ status: 'FAILED', reason: 'payment not completed: capture refused' });
  });

  test('When the start keeps failing, then the payment service is asked, and a payment that is there goes on', async () => {
    const run = await runTopUp({ startTopUpPayment: transient, topUpPaymentStatus: 'STARTED' });
    expect(called(run).filter((n) => n === 'startTopUpPayment')).toHaveLength(STEP_ATTEMPTS);
    expect(called(run).slice(STEP_ATTEMPTS)).toEqual([
      'topUpPaymentStatus',
      'captureTopUpPayment',
      'creditTopUp',
    ]);
  });

  test('When the start timed out and no payment is there, then the top-up fails with the payment cancelled', async () => {
    const run = await runTopUp({
      startTopUpPayment: { ok: false, reason: 'payment timed out', ambiguous: true },
      topUpPaymentStatus: null,
    });
    expect(called(run)).toEqual([
      'startTopUpPayment',
      'topUpPaymentStatus',
      'cancelTopUpPayment',
      'endTopUp',
    ]);
    expect(run.output).toMatchObject({ status: 'FAILED' });
  });

  test('When the capture and then the credit keep failing for a while, then both are asked again until done: never cancelled after the capture', async () => {
    const run = await runTopUp({
      captureTopUpPayment: failFirst(9, ok()),
      creditTopUp: failFirst(12, ok()),
    });
    expect(called(run).filter((n) => n === 'captureTopUpPayment')).toHaveLength(10);
    expect(called(run).filter((n) => n === 'creditTopUp')).toHaveLength(13);
    expect(called(run)).not.toContain('cancelTopUpPayment');
    expect(run.output).toMatchObject({ status: 'COMPLETED' });
  });
});
