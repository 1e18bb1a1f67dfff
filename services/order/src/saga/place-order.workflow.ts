import type { TWorkflow, WorkflowContext } from '@dapr/dapr';
import { withTraceparent } from '@shop/platform';
import { settleBill } from '../orders/amounts.ts';
import type { Step } from '../orders/orders.ts';
import type { Activities, StepResult } from './activities.ts';
import type { SagaFaults } from './faults.ts';
import { type Exhausted, type Gen, UNTIL_DONE, withRetry } from './retry.ts';

export const PLACE_ORDER_WORKFLOW = 'placeOrderWorkflow';

export interface PlaceOrderInput extends SagaFaults {
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
 * forward — completeOrder is retried until it succeeds, never compensated.
 * The activities that only record progress are retried until they succeed
 * too: a workflow must not fail because its own database blinked.
 *
 * Every step's state is recorded for the progress view. The workflow is
 * replayed after a crash: it must stay deterministic.
 */
export function placeOrderWorkflow(a: Activities): TWorkflow {
  return async function* (ctx: WorkflowContext, input: PlaceOrderInput): Gen<unknown> {
    const { orderId } = input;

    const retry = <T>(activity: (...args: never[]) => Promise<T>, arg: unknown, attempts: number) =>
      withRetry(ctx, activity, withTraceparent(arg, input.traceparent), attempts);
    const record = (activity: (...args: never[]) => Promise<unknown>, arg: unknown) =>
      retry(activity, arg, UNTIL_DONE);
    const mark = (step: Step, state: string, detail?: string) =>
      record(a.markStep, { orderId, step, state, detail });
    const end = (status: 'FAILED' | 'NEEDS_ATTENTION', reason: string) =>
      record(a.endOrder, { orderId, status, reason });

    const undo: { step: Step; run: () => Gen<StepResult> }[] = [];

    /**
     * Runs one step (the activity records running, done or failed itself);
     * returns its value, or the reason it failed.
     */
    async function* step<T>(
      name: Step,
      activity: (...args: never[]) => Promise<StepResult<T>>,
      arg: unknown,
      attempts = STEP_ATTEMPTS,
    ): Gen<{ ok: true; value: T } | { ok: false; reason: string }> {
      const result = (yield* retry(activity, arg, attempts)) as StepResult<T> | Exhausted;
      if (result.ok) return { ok: true, value: result.value };
      // Out of attempts on transient errors: the activity could not record it.
      if ('exhausted' in result) yield* mark(name, 'failed', result.reason);
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
    const compensation = (activity: (...args: never[]) => Promise<StepResult>, arg: unknown) => () =>
      retry(activity, arg, input.compensationAttempts ?? COMPENSATION_ATTEMPTS) as Gen<StepResult>;

    let discount = 0;
    if (input.couponId) {
      const used = yield* step('useCoupon', a.useCoupon, {
        orderId,
        userId: input.userId,
        couponId: input.couponId,
        orderAmount: input.totalAmount,
      });
      if (!used.ok) return yield* compensate(`coupon refused: ${used.reason}`);
      undo.unshift({ step: 'useCoupon', run: compensation(a.restoreCoupon, { orderId }) });
      discount = used.value.discount;

      const applied = yield* step('applyCoupon', a.applyCoupon, { orderId, discount });
      if (!applied.ok) return yield* compensate(`discount not applied: ${applied.reason}`);
      undo.unshift({ step: 'applyCoupon', run: compensation(a.removeCoupon, { orderId }) });
    }

    const stock = yield* step('deductStock', a.deductStock, { orderId, items: input.items });
    if (!stock.ok) return yield* compensate(`stock refused: ${stock.reason}`);
    undo.unshift({ step: 'deductStock', run: compensation(a.restoreStock, { orderId }) });

    const bill = settleBill(input.totalAmount, discount, input.pointsToUse);
    let payment = (yield* retry(
      a.startPayment,
      { orderId, amount: bill.paymentAmount, pointsUsed: bill.pointsUsed, fault: input.paymentFault },
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
    undo.unshift({ step: 'startPayment', run: compensation(a.cancelPayment, { orderId }) });
    if (!payment.ok) return yield* compensate(`payment refused: ${payment.reason}`);

    if (bill.pointsUsed > 0) {
      const points = yield* step('deductPoints', a.deductPoints, {
        orderId,
        userId: input.userId,
        amount: bill.pointsUsed,
      });
      if (!points.ok) return yield* compensate(`points refused: ${points.reason}`);
      undo.unshift({
        step: 'deductPoints',
        run: compensation(a.refundPoints, { orderId, userId: input.userId }),
      });
    } else if (input.pointsToUse > 0) {
      yield* mark('deductPoints', 'skipped', 'nothing left to pay with points after the discount');
    }

    // The pivot: until it answers for sure, nothing is decided (it is idempotent, so asking again is safe).
    const captured = yield* step(
      'completePayment',
      a.completePayment,
      { orderId, fault: input.paymentFault },
      UNTIL_DONE,
    );
    if (!captured.ok) return yield* compensate(`payment not completed: ${captured.reason}`);

    // Captured: from here the saga only goes forward.
    yield* retry(
      a.completeOrder,
      (attempt: number) => ({ orderId, failThisAttempt: attempt <= (input.completeOrderFailures ?? 0) }),
      UNTIL_DONE,
    );
    return { orderId, status: 'COMPLETED' };
  } as unknown as TWorkflow;
}
