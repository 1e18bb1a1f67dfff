import type { TWorkflow, WorkflowContext } from '@dapr/dapr';
import { withTraceparent } from '@shop/platform';
import { settleBill } from '../orders/amounts.ts';
import type { Step, StepState } from '../orders/order.model.ts';
import type { Activities, StepResult } from './activities.ts';
import { compensationFor, type UndoableStep } from './compensations.ts';
import { type ActivityOf, type Exhausted, type Gen, type InputOf, UNTIL_DONE, withRetry } from './retry.ts';

export const PLACE_ORDER_WORKFLOW = 'placeOrderWorkflow';

export interface PlaceOrderInput {
  orderId: string;
  userId: string;
  items: { productId: string; quantity: number }[];
  couponId: string | null;
  /** Asked for; the saga takes at most what is left after the discount (settleBill). */
  pointsToUse: number;
  totalAmount: number;
  /** Attempts of each compensation before the order needs attention (SAGA_COMPENSATION_ATTEMPTS). */
  compensationAttempts?: number;
  /** The trace of the request that placed the order; every activity runs in it. */
  traceparent?: string;
}

/**
 * Attempts of a forward step before the capture on transient errors (1+2+4+8+16 s
 * of waits: a dependency away for half a minute does not fail the order), and
 * of a compensation before the order needs attention.
 */
export const STEP_ATTEMPTS = 6;
export const COMPENSATION_ATTEMPTS = 8;

/**
 * The order saga. Steps run in DESIGN.md's order; after each one its undo is
 * put first on the compensation list. A business refusal fails fast; a
 * transient error is retried with a durable timer between attempts (the JS
 * SDK has no activity retry policy). On a failure before the capture the
 * compensations run in reverse, each retried until its budget ends — then the
 * order needs attention.
 *
 * The capture (completePayment) is the pivot: it is retried until it answers
 * for sure, and once the customer's money is taken the saga only goes
 * forward — completeOrder, in the same activity (captureAndComplete), is
 * retried until it succeeds, never compensated.
 * The activities that only record progress are retried until they succeed
 * too: a workflow must not fail because its own database blinked.
 *
 * Every step's state is recorded for the progress view. The workflow is
 * replayed after a crash: it must stay deterministic.
 */
export function placeOrderWorkflow(a: Activities): TWorkflow {
  return async function* (ctx: WorkflowContext, input: PlaceOrderInput): Gen<unknown> {
    const { orderId } = input;

    // Typed end to end: each call must give what its activity takes.
    const retry = <I, T>(activity: ActivityOf<I, T>, arg: InputOf<I>, attempts: number) =>
      withRetry(ctx, activity, withTraceparent(arg, input.traceparent), attempts);
    const record = <I>(activity: ActivityOf<I, unknown>, arg: InputOf<I>) => retry(activity, arg, UNTIL_DONE);
    const mark = (step: Step, state: StepState, detail?: string) =>
      record(a.markStep, { orderId, step, state, detail });
    const end = (status: 'FAILED' | 'NEEDS_ATTENTION', reason: string) =>
      record(a.endOrder, { orderId, status, reason });

    const undo: { step: Step; run: () => Gen<StepResult> }[] = [];

    /**
     * Runs one step (the activity records running, done or failed itself);
     * returns its value, or the reason it failed. Its undo goes on the
     * compensation list when it was done — and also when it ran out of
     * attempts on transient errors: then nobody knows whether it took effect
     * (a call that timed out may have landed), and every undo is safe to run
     * on a step that never happened (it records a tombstone that refuses a late one).
     */
    async function* step<I, T>(
      name: Step,
      activity: ActivityOf<I, StepResult<T>>,
      arg: InputOf<I>,
      options: { undo?: () => Gen<StepResult>; attempts?: number } = {},
    ): Gen<{ ok: true; value: T } | { ok: false; reason: string }> {
      const result = (yield* retry(activity, arg, options.attempts ?? STEP_ATTEMPTS)) as
        | StepResult<T>
        | Exhausted;
      const undoable = () => {
        if (options.undo) undo.unshift({ step: name, run: options.undo });
      };
      if (result.ok) {
        undoable();
        return { ok: true, value: result.value };
      }
      if ('exhausted' in result) {
        // The activity could not record it: its outcome is unknown.
        yield* mark(name, 'failed', result.reason);
        undoable();
      }
      return { ok: false, reason: result.reason };
    }

    async function* compensate(reason: string): Gen<unknown> {
      for (const { step: name, run } of undo) {
        const result = (yield* run()) as StepResult;
        if (!result.ok) {
          yield* mark(name, 'failed', `compensation failed: ${result.reason}`);
          yield* end('NEEDS_ATTENTION', `${reason}; then ${name} could not be undone: ${result.reason}`);
          return { orderId, status: 'NEEDS_ATTENTION' };
        }
      }
      yield* end('FAILED', reason);
      return { orderId, status: 'FAILED', reason };
    }
    const compensation = (undone: UndoableStep) => () =>
      compensationFor(
        a,
        undone,
        input,
      )(
        (activity, arg) =>
          retry(activity, arg, input.compensationAttempts ?? COMPENSATION_ATTEMPTS) as Gen<StepResult>,
      );

    let discount = 0;
    if (input.couponId) {
      // Steps 1 and 2 (the coupon used, its discount recorded) in one activity, undone by one.
      const used = yield* step(
        'useCoupon',
        a.useCoupon,
        { orderId, userId: input.userId, couponId: input.couponId, orderAmount: input.totalAmount },
        { undo: compensation('useCoupon') },
      );
      if (!used.ok) return yield* compensate(`coupon refused: ${used.reason}`);
      discount = used.value.discount;
    }

    const stock = yield* step(
      'deductStock',
      a.deductStock,
      { orderId, items: input.items },
      { undo: compensation('deductStock') },
    );
    if (!stock.ok) return yield* compensate(`stock refused: ${stock.reason}`);

    const bill = settleBill(input.totalAmount, discount, input.pointsToUse);
    let payment = (yield* retry(
      a.startPayment,
      { orderId, amount: bill.paymentAmount, pointsUsed: bill.pointsUsed },
      STEP_ATTEMPTS,
    )) as StepResult | Exhausted;
    if (!payment.ok && ('ambiguous' in payment || 'exhausted' in payment)) {
      // Timed out (or kept failing): the payment may have been made. Ask before deciding.
      const status = (yield* record(a.paymentStatus, { orderId })) as string | null;
      payment =
        status === 'STARTED'
          ? { ok: true, value: { status } }
          : { ok: false, reason: `payment timed out; its state is ${status ?? 'unknown'}` };
      yield* mark('startPayment', payment.ok ? 'done' : 'failed', payment.ok ? undefined : payment.reason);
    }
    // Cancel also when it failed: a start that timed out may still land, and the cancel then refuses it.
    undo.unshift({ step: 'startPayment', run: compensation('startPayment') });
    if (!payment.ok) return yield* compensate(`payment refused: ${payment.reason}`);

    if (bill.pointsUsed > 0) {
      const points = yield* step(
        'deductPoints',
        a.deductPoints,
        { orderId, userId: input.userId, amount: bill.pointsUsed },
        { undo: compensation('deductPoints') },
      );
      if (!points.ok) return yield* compensate(`points refused: ${points.reason}`);
    } else if (input.pointsToUse > 0) {
      yield* mark('deductPoints', 'skipped', 'nothing left to pay with points after the discount');
    }

    // The pivot, then the order's end: asked until it answers for sure (the capture is
    // idempotent, and once recorded it is not asked again). A refused capture compensates;
    // once captured, the saga only goes forward.
    const completed = yield* step(
      'completePayment',
      a.captureAndComplete,
      (attempt: number) => ({ orderId, retry: attempt > 1 }),
      { attempts: UNTIL_DONE },
    );
    if (!completed.ok) return yield* compensate(`payment not completed: ${completed.reason}`);
    return { orderId, status: 'COMPLETED' };
  } as unknown as TWorkflow;
}
