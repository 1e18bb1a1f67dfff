import type { Task, TWorkflow, WorkflowContext } from '@dapr/dapr';
import type { Step } from '../orders/orders.ts';
import type { Activities, StepResult } from './activities.ts';

export const PLACE_ORDER_WORKFLOW = 'placeOrderWorkflow';

export interface PlaceOrderInput {
  orderId: string;
  userId: string;
  items: { productId: string; quantity: number }[];
  couponId: string | null;
  pointsToUse: number;
  totalAmount: number;
  /** Test/dev only: a fake-gateway fault passed to the payment service. */
  paymentFault?: string;
  /** Attempts of each compensation before the order needs attention (SAGA_COMPENSATION_ATTEMPTS). */
  compensationAttempts?: number;
}

/** Attempts of a forward step on transient errors, and of a compensation before the order needs attention. */
export const STEP_ATTEMPTS = 4;
export const COMPENSATION_ATTEMPTS = 8;
const MAX_BACKOFF_S = 30;

type Gen<T> = AsyncGenerator<Task<unknown>, T, unknown>;

/**
 * The order saga. Steps run in DESIGN.md's order; after each one its undo is
 * put first on the compensation list. A business refusal fails fast; a
 * transient error is retried with a durable timer between attempts (the JS
 * SDK has no activity retry policy). On a failure the compensations run in
 * reverse, each retried until its budget ends — then the order needs
 * attention. Every step's state is recorded for the progress view. The
 * workflow is replayed after a crash: it must stay deterministic.
 */
export function placeOrderWorkflow(a: Activities): TWorkflow {
  return async function* (ctx: WorkflowContext, input: PlaceOrderInput): Gen<unknown> {
    const { orderId } = input;
    const mark = (step: Step, state: string, detail?: string) =>
      ctx.callActivity(a.markStep, { orderId, step, state: state as never, detail });

    /** Calls an activity; retries thrown (transient) errors with backoff, up to `attempts`. */
    async function* withRetry<T>(
      activity: (...args: never[]) => Promise<T>,
      arg: unknown,
      attempts: number,
    ): Gen<T | { ok: false; reason: string; exhausted: true }> {
      let delay = 1;
      for (let attempt = 1; ; attempt++) {
        try {
          return (yield ctx.callActivity(activity as never, arg as never)) as T;
        } catch (err) {
          if (attempt >= attempts)
            return {
              ok: false,
              reason: `still failing after ${attempts} attempts: ${(err as Error).message}`,
              exhausted: true,
            };
          yield ctx.createTimer(delay);
          delay = Math.min(delay * 2, MAX_BACKOFF_S);
        }
      }
    }

    const undo: { step: Step; run: () => Gen<StepResult> }[] = [];

    /**
     * Runs one step (the activity records running, done or failed itself);
     * returns its value, or the reason it failed.
     */
    async function* step<T>(
      name: Step,
      activity: (...args: never[]) => Promise<StepResult<T>>,
      arg: unknown,
    ): Gen<{ ok: true; value: T } | { ok: false; reason: string }> {
      const result = (yield* withRetry(activity, arg, STEP_ATTEMPTS)) as
        | StepResult<T>
        | { ok: false; reason: string; exhausted: true };
      if (result.ok) return { ok: true, value: result.value };
      // Out of attempts on transient errors: the activity could not record it.
      if ('exhausted' in result) yield mark(name, 'failed', result.reason);
      return { ok: false, reason: result.reason };
    }

    async function* compensate(reason: string): Gen<unknown> {
      for (const { step: name, run } of undo) {
        const result = (yield* run()) as StepResult;
        if (!result.ok) {
          yield mark(name, 'failed', `compensation failed: ${result.reason}`);
          yield ctx.callActivity(a.endOrder, {
            orderId,
            status: 'NEEDS_ATTENTION',
            reason: `${reason}; then ${name} could not be undone: ${result.reason}`,
          });
          return { orderId, status: 'NEEDS_ATTENTION' };
        }
      }
      yield ctx.callActivity(a.endOrder, { orderId, status: 'FAILED', reason });
      return { orderId, status: 'FAILED', reason };
    }
    const compensation = (activity: (...args: never[]) => Promise<StepResult>, arg: unknown) => () =>
      withRetry(activity, arg, input.compensationAttempts ?? COMPENSATION_ATTEMPTS) as Gen<StepResult>;

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

    const amount = Math.max(0, input.totalAmount - discount - input.pointsToUse);
    let payment = (yield* withRetry(
      a.startPayment,
      { orderId, amount, fault: input.paymentFault },
      STEP_ATTEMPTS,
    )) as StepResult | { ok: false; reason: string; exhausted: true };
    if (!payment.ok && ('ambiguous' in payment || 'exhausted' in payment)) {
      // Timed out (or kept failing): the payment may have been made. Ask before deciding.
      const status = (yield* withRetry(a.paymentStatus, { orderId }, STEP_ATTEMPTS)) as string | null;
      payment =
        status === 'STARTED'
          ? { ok: true, value: { status } }
          : { ok: false, reason: `payment timed out; its state is ${status ?? 'unknown'}` };
      yield mark('startPayment', payment.ok ? 'done' : 'failed', payment.ok ? undefined : payment.reason);
    }
    // Cancel also when it failed: a start that timed out may still land, and the cancel then refuses it.
    undo.unshift({ step: 'startPayment', run: compensation(a.cancelPayment, { orderId }) });
    if (!payment.ok) return yield* compensate(`payment refused: ${payment.reason}`);

    if (input.pointsToUse > 0) {
      const points = yield* step('deductPoints', a.deductPoints, {
        orderId,
        userId: input.userId,
        amount: input.pointsToUse,
      });
      if (!points.ok) return yield* compensate(`points refused: ${points.reason}`);
      undo.unshift({
        step: 'deductPoints',
        run: compensation(a.refundPoints, { orderId, userId: input.userId }),
      });
    }

    const completed = yield* step('completePayment', a.completePayment, {
      orderId,
      fault: input.paymentFault,
    });
    if (!completed.ok) return yield* compensate(`payment not completed: ${completed.reason}`);

    const done = yield* step('completeOrder', a.completeOrder, { orderId });
    if (!done.ok) return yield* compensate(`order not completed: ${done.reason}`);
    return { orderId, status: 'COMPLETED' };
  } as unknown as TWorkflow;
}
