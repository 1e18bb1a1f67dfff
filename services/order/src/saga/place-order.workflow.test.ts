/**
 * The saga's decisions without the platform: the workflow generator is driven
 * by a fake context that runs scripted activities, so each test states which
 * step answers what and checks which calls follow (amounts, compensations,
 * retries, forward-only after the capture).
 */

import { describe, expect, test } from '@jest/globals';
import { type PlaceOrderInput, placeOrderWorkflow, STEP_ATTEMPTS } from './place-order.workflow.ts';
import { type SagaActivityName, sagaActivities, sampleOrder } from './saga-stand-ins.ts';
import { type Answer, driveWorkflow, failFirst, ok, refused, transient } from './workflow-driver.ts';

type Name = SagaActivityName;

const happy: Partial<Record<Name, Answer>> = {
  useCoupon: ok({ discount: 5000 }),
  deductStock: ok(),
  startPayment: ok({ status: 'STARTED' }),
  deductPoints: ok(),
  captureAndComplete: ok(),
};

interface Run {
  output: any;
  /** Activities called, in order (markStep and the timers left out). */
  calls: { name: Name; arg: any }[];
  marks: { step: string; state: string }[];
  timers: number;
}

async function runSaga(input: Partial<PlaceOrderInput>, answers: Partial<Record<Name, Answer>> = {}) {
  const driven = await driveWorkflow(
    placeOrderWorkflow(sagaActivities),
    { ...sampleOrder, ...input },
    { ...happy, ...answers },
  );
  const run: Run = {
    output: driven.output,
    calls: driven.calls.filter((c) => c.name !== 'markStep') as Run['calls'],
    marks: driven.calls
      .filter((c) => c.name === 'markStep')
      .map((c) => ({ step: c.arg.step, state: c.arg.state })),
    timers: driven.timers,
  };
  return run;
}

const called = (run: Run) => run.calls.map((c) => c.name);
const argOf = (run: Run, name: Name) => run.calls.find((c) => c.name === name)?.arg;

describe('the amounts the saga charges', () => {
  test('When 10,000 points are offered on a 10,000 KRW order with a 5,000 KRW coupon, then 5,000 points are taken and nothing is paid', async () => {
    const run = await runSaga({ couponId: 'c-1', pointsToUse: 10_000 });
    expect(argOf(run, 'deductPoints')).toMatchObject({ amount: 5000 });
    expect(argOf(run, 'startPayment')).toMatchObject({ amount: 0, pointsUsed: 5000 });
    expect(run.output).toMatchObject({ status: 'COMPLETED' });
  });

  test('When the points do not cover the rest, then all of them are taken and the rest is paid', async () => {
    const run = await runSaga({ couponId: 'c-1', pointsToUse: 3000, totalAmount: 40_000 });
    expect(argOf(run, 'deductPoints')).toMatchObject({ amount: 3000 });
    expect(argOf(run, 'startPayment')).toMatchObject({ amount: 32_000, pointsUsed: 3000 });
  });

  test('When the coupon already covers the order, then no points are taken and the step is marked skipped', async () => {
    const run = await runSaga(
      { couponId: 'c-1', pointsToUse: 2000, totalAmount: 5000 },
      { useCoupon: ok({ discount: 5000 }) },
    );
    expect(called(run)).not.toContain('deductPoints');
    expect(run.marks).toContainEqual({ step: 'deductPoints', state: 'skipped' });
    expect(argOf(run, 'startPayment')).toMatchObject({ amount: 0, pointsUsed: 0 });
  });
});

describe('which compensations run', () => {
  test('When everything answers, then the steps run in the design order and nothing is undone', async () => {
    const run = await runSaga({ couponId: 'c-1', pointsToUse: 1000 });
    expect(called(run)).toEqual([
      'useCoupon',
      'deductStock',
      'startPayment',
      'deductPoints',
      'captureAndComplete',
    ]);
  });

  test('When stock is refused, then only the coupon is given back, newest first, and the order FAILS', async () => {
    const run = await runSaga(
      { couponId: 'c-1', pointsToUse: 1000 },
      { deductStock: refused('out of stock') },
    );
    expect(called(run)).toEqual(['useCoupon', 'deductStock', 'restoreCoupon', 'endOrder']);
    expect(argOf(run, 'endOrder')).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/stock refused/),
    });
  });

  test('When the payment is declined, then it is cancelled and stock and coupon are given back; no points are touched', async () => {
    const run = await runSaga({ couponId: 'c-1', pointsToUse: 1000 }, { startPayment: refused('declined') });
    expect(called(run).slice(3)).toEqual(['cancelPayment', 'restoreStock', 'restoreCoupon', 'endOrder']);
  });

  test('When the capture is refused, then points are refunded and everything before is undone', async () => {
    const run = await runSaga(
      { couponId: 'c-1', pointsToUse: 1000 },
      { captureAndComplete: refused('refused') },
    );
    expect(called(run).slice(5)).toEqual([
      'refundPoints',
      'cancelPayment',
      'restoreStock',
      'restoreCoupon',
      'endOrder',
    ]);
    expect(argOf(run, 'endOrder').status).toBe('FAILED');
  });

  test('When a forward step keeps failing on transient errors, then it is retried with timers and the saga compensates after its budget, that step included', async () => {
    const run = await runSaga({}, { deductStock: transient });
    expect(called(run).filter((n) => n === 'deductStock')).toHaveLength(STEP_ATTEMPTS);
    expect(run.timers).toBe(STEP_ATTEMPTS - 1);
    expect(run.marks).toContainEqual({ step: 'deductStock', state: 'failed' });
    // A call that timed out may have landed: its undo runs (it is a no-op, or a tombstone, if it did not).
    expect(called(run).slice(STEP_ATTEMPTS)).toEqual(['restoreStock', 'endOrder']);
    expect(argOf(run, 'endOrder').status).toBe('FAILED');
  });

  test('When the points step runs out of attempts after the payment started, then its points are refunded, the payment cancelled and the stock given back', async () => {
    const run = await runSaga({ pointsToUse: 1000 }, { deductPoints: transient });
    expect(called(run).slice(2 + STEP_ATTEMPTS)).toEqual([
      'refundPoints',
      'cancelPayment',
      'restoreStock',
      'endOrder',
    ]);
  });

  test('When a step is refused, then its own undo does not run (a refusal changed nothing)', async () => {
    const run = await runSaga({ pointsToUse: 1000 }, { deductPoints: refused('not enough points') });
    expect(called(run).slice(3)).toEqual(['cancelPayment', 'restoreStock', 'endOrder']);
  });

  test('When a compensation runs out of attempts, then the order NEEDS_ATTENTION', async () => {
    const run = await runSaga(
      { compensationAttempts: 3 },
      { startPayment: refused('declined'), restoreStock: transient },
    );
    expect(called(run).filter((n) => n === 'restoreStock')).toHaveLength(3);
    expect(argOf(run, 'endOrder')).toMatchObject({ status: 'NEEDS_ATTENTION' });
    expect(run.output).toMatchObject({ status: 'NEEDS_ATTENTION' });
  });
});

describe('forward only after the capture', () => {
  test('When capturing and completing keeps failing on transient errors, then it is asked again until it answers, never compensated meanwhile', async () => {
    const run = await runSaga(
      { couponId: 'c-1', pointsToUse: 1000 },
      { captureAndComplete: failFirst(20, ok()) },
    );
    expect(called(run).filter((n) => n === 'captureAndComplete')).toHaveLength(21);
    expect(called(run)).not.toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^(cancelPayment|refundPoints|restoreStock|restoreCoupon|removeCoupon)$/),
      ]),
    );
    expect(called(run)).not.toContain('endOrder');
    expect(run.output).toMatchObject({ status: 'COMPLETED' });
  });

  test('When it is asked again, then the activity is told it is a retry (a capture recorded done is not asked again)', async () => {
    const run = await runSaga({}, { captureAndComplete: failFirst(2, ok()) });
    expect(run.calls.filter((c) => c.name === 'captureAndComplete').map((c) => c.arg.retry)).toEqual([
      false,
      true,
      true,
    ]);
  });
});

describe('the saga records its progress whatever its database does', () => {
  test('When recording a step or the ending fails for a while, then it is retried, never failing the workflow', async () => {
    const run = await runSaga(
      { couponId: 'c-1' },
      { deductStock: refused('out of stock'), endOrder: failFirst(6, undefined) },
    );
    expect(called(run).filter((n) => n === 'endOrder')).toHaveLength(7);
    expect(run.output).toMatchObject({ status: 'FAILED' });
    const marks = await runSaga({}, { deductStock: transient, markStep: failFirst(5, undefined) });
    expect(marks.marks.filter((m) => m.step === 'deductStock' && m.state === 'failed')).toHaveLength(6);
    expect(marks.output).toMatchObject({ status: 'FAILED' });
  });
});

describe('the trace an order runs in', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  test('When the order was placed in a trace, then every activity, compensations and records included, is handed its traceparent', async () => {
    const run = await runSaga(
      { couponId: 'c-1', pointsToUse: 1000, traceparent },
      { captureAndComplete: refused('capture refused') },
    );
    expect(called(run)).toEqual(
      expect.arrayContaining(['useCoupon', 'cancelPayment', 'restoreCoupon', 'endOrder']),
    );
    for (const call of run.calls) expect(call.arg).toMatchObject({ traceparent });
  });

  test('When the order carries no trace (placed before tracing), then the activities get their arguments unchanged', async () => {
    const run = await runSaga({});
    for (const call of run.calls) expect(call.arg).not.toHaveProperty('traceparent');
  });
});
