import type { WorkflowActivityContext } from '@dapr/dapr';
import { DaprHttpError, type DaprSidecar, type EntityManager, SidecarUnavailableError } from '@shop/platform';
import { AppId } from '../events/topics.ts';
import type { Step, StepState } from '../orders/order.model.ts';
import { findStepState, setAmount } from '../orders/order.repository.ts';
import { finishOrder, markStep } from '../orders/order-progress.ts';

/** What a step answers the workflow: done (with a value), or refused for a business reason. */
export type StepResult<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; reason: string; type?: string; ambiguous?: boolean };

export interface SagaDeps {
  em: EntityManager;
  sidecar: DaprSidecar;
  outboxWritten: () => void;
  /** A call that takes longer is treated as failed (or, for a payment, ambiguous). */
  callTimeoutMs: number;
  /** Called as each forward step starts, after it is marked running (the test faults, faults.ts). */
  beforeStep?: (step: Step) => void;
}

/**
 * One call of a saga step to a service through Dapr service invocation. A 4xx
 * answer is a business refusal, returned as data (the workflow compensates at
 * once); anything else is thrown (the workflow retries with backoff).
 */
export function stepCaller(deps: Pick<SagaDeps, 'sidecar' | 'callTimeoutMs'>) {
  return async <T>(appId: string, path: string, body: unknown): Promise<StepResult<T>> => {
    try {
      return {
        ok: true,
        value: await deps.sidecar.invoke<T>(appId, path, 'POST', body, { timeoutMs: deps.callTimeoutMs }),
      };
    } catch (err) {
      if (
        err instanceof DaprHttpError &&
        err.status >= 400 &&
        err.status < 500 &&
        err.status !== 408 &&
        err.status !== 429
      ) {
        const problem = (err.body ?? {}) as { detail?: string; title?: string };
        return { ok: false, reason: problem.detail ?? problem.title ?? err.message, type: err.problemType };
      }
      throw err;
    }
  };
}

/**
 * Starts the payment of an order or a top-up (the payment service keeps it under
 * that id). A timeout is ambiguous: the payment may exist, and the workflow asks
 * (paymentStatusOf) before it decides.
 */
export async function startPaymentOf(
  call: ReturnType<typeof stepCaller>,
  input: { id: string; amount: number },
): Promise<StepResult> {
  try {
    return await call(AppId.payment, 'saga/payments/start', { orderId: input.id, amount: input.amount });
  } catch (err) {
    if (err instanceof SidecarUnavailableError)
      return { ok: false, reason: 'payment timed out', ambiguous: true };
    throw err;
  }
}

/** The payment's state as the payment service has it: its status, or null when there is none. */
export async function paymentStatusOf(sidecar: DaprSidecar, id: string): Promise<string | null> {
  try {
    return (await sidecar.invoke<{ status: string }>(AppId.payment, `payments/${id}`, 'GET')).status;
  } catch (err) {
    if (err instanceof DaprHttpError && err.status === 404) return null;
    throw err;
  }
}

/** The order saga's activities: each calls one service (stepCaller) or records the order's progress. */
export function createActivities(deps: SagaDeps) {
  const call = stepCaller(deps);

  /**
   * A forward step that records its own progress (running, then done or
   * failed), so the workflow needs no extra round trip per state. A transient
   * error leaves it running: the workflow retries. An ambiguous answer (a
   * payment that timed out) also leaves it running: the workflow decides.
   *
   * When the order's own database is away: before the remote call, the step
   * throws without calling (nothing happened remotely) and is retried; after
   * it, recording the result throws and the retry calls the remote step again,
   * which, idempotent by order id, answers its first result. Either way the
   * remote effect happens once and is recorded once the database is back.
   */
  const forward =
    <I extends { orderId: string }, T>(step: Step, run: (i: I) => Promise<StepResult<T>>) =>
    async (_: WorkflowActivityContext, i: I): Promise<StepResult<T>> => {
      await markStep(deps.em, i.orderId, step, 'running');
      deps.beforeStep?.(step);
      const result = await run(i);
      if (!(result.ok === false && result.ambiguous)) {
        await markStep(
          deps.em,
          i.orderId,
          step,
          result.ok ? 'done' : 'failed',
          result.ok ? undefined : result.reason,
          result.ok ? undefined : result.type,
        );
      }
      return result;
    };
  /** A compensation, recording compensating, then compensated when it worked. */
  const undo =
    <I extends { orderId: string }>(step: Step, run: (i: I) => Promise<StepResult>) =>
    async (_: WorkflowActivityContext, i: I): Promise<StepResult> => {
      await markStep(deps.em, i.orderId, step, 'compensating');
      const result = await run(i);
      if (result.ok) await markStep(deps.em, i.orderId, step, 'compensated');
      return result;
    };

  const takeCoupon = forward(
    'useCoupon',
    (i: { orderId: string; userId: string; couponId: string; orderAmount: number }) =>
      call<{ discount: number }>(AppId.coupon, 'saga/coupons/use', i),
  );
  const applyCoupon = forward(
    'applyCoupon',
    async (i: { orderId: string; discount: number }): Promise<StepResult<number>> => {
      await setAmount(deps.em, i.orderId, 'discount', i.discount);
      return { ok: true, value: i.discount };
    },
  );
  const removeCoupon = undo('applyCoupon', async (i: { orderId: string }): Promise<StepResult> => {
    await setAmount(deps.em, i.orderId, 'discount', 0);
    return { ok: true, value: 0 };
  });
  const giveCouponBack = undo('useCoupon', (i: { orderId: string }) =>
    call(AppId.coupon, 'saga/coupons/restore', i),
  );
  const capture = forward('completePayment', (i: { orderId: string }) =>
    call(AppId.payment, 'saga/payments/complete', { orderId: i.orderId }),
  );
  const completeOrder = forward('completeOrder', async (i: { orderId: string }): Promise<StepResult> => {
    await finishOrder(deps.em, i.orderId, 'COMPLETED');
    deps.outboxWritten();
    return { ok: true, value: null };
  });

  const activities = {
    /** Marks a state the steps cannot mark themselves (a budget exhausted, an ambiguous payment resolved). */
    markStep: async (
      _: WorkflowActivityContext,
      i: { orderId: string; step: Step; state: StepState; detail?: string },
    ) => {
      await markStep(deps.em, i.orderId, i.step, i.state, i.detail);
    },
    /**
     * Steps 1 and 2 in one activity: the coupon used (coupon service), then
     * its discount recorded on the order — one workflow round trip fewer on an
     * order with a coupon. A retry after the use asks again (idempotent by order id).
     */
    useCoupon: async (
      ctx: WorkflowActivityContext,
      i: { orderId: string; userId: string; couponId: string; orderAmount: number },
    ): Promise<StepResult<{ discount: number }>> => {
      const used = await takeCoupon(ctx, i);
      if (!used.ok) return used;
      await applyCoupon(ctx, { orderId: i.orderId, discount: used.value.discount });
      return used;
    },
    /** The undo of steps 2 and 1, newest first: the discount taken off the order, then the coupon given back. */
    restoreCoupon: async (ctx: WorkflowActivityContext, i: { orderId: string }): Promise<StepResult> => {
      await removeCoupon(ctx, i);
      return giveCouponBack(ctx, i);
    },
    deductStock: forward(
      'deductStock',
      (i: { orderId: string; items: { productId: string; quantity: number }[] }) =>
        call(AppId.product, 'saga/stock/deduct', i),
    ),
    restoreStock: undo('deductStock', (i: { orderId: string }) =>
      call(AppId.product, 'saga/stock/restore', i),
    ),
    /**
     * Records the settled bill (the points the saga will take), then starts the payment.
     * A timeout here is ambiguous: the payment may exist. The workflow asks before it compensates.
     */
    startPayment: forward(
      'startPayment',
      async (i: { orderId: string; amount: number; pointsUsed: number }): Promise<StepResult> => {
        await setAmount(deps.em, i.orderId, 'points_used', i.pointsUsed);
        return startPaymentOf(call, { id: i.orderId, amount: i.amount });
      },
    ),
    /** The payment's state as the payment service has it: its status, or null when there is none. */
    paymentStatus: (_: WorkflowActivityContext, i: { orderId: string }) =>
      paymentStatusOf(deps.sidecar, i.orderId),
    cancelPayment: undo('startPayment', (i: { orderId: string }) =>
      call(AppId.payment, 'saga/payments/cancel', i),
    ),
    deductPoints: forward('deductPoints', (i: { orderId: string; userId: string; amount: number }) =>
      call(AppId.user, 'saga/points/deduct', i),
    ),
    refundPoints: undo('deductPoints', (i: { orderId: string; userId: string }) =>
      call(AppId.user, 'saga/points/refund', i),
    ),
    /**
     * The pivot and the step after it in one activity: the capture, then the
     * order's end. One workflow round trip fewer per saga (each costs an
     * activity actor, two scheduler reminders and an orchestration turn). The
     * workflow retries it until it answers; a retry whose capture is already
     * recorded done goes straight to ending the order: captured once, forward only.
     */
    captureAndComplete: async (
      ctx: WorkflowActivityContext,
      i: { orderId: string; retry: boolean },
    ): Promise<StepResult> => {
      if (!(i.retry && (await findStepState(deps.em, i.orderId, 'completePayment')) === 'done')) {
        const captured = await capture(ctx, i);
        if (!captured.ok) return captured;
      }
      return completeOrder(ctx, { orderId: i.orderId });
    },
    endOrder: async (
      _: WorkflowActivityContext,
      i: { orderId: string; status: 'FAILED' | 'NEEDS_ATTENTION'; reason: string },
    ) => {
      await finishOrder(deps.em, i.orderId, i.status, i.reason);
      deps.outboxWritten();
    },
  };
  // The workflow calls activities by function; the SDK finds them by the function's name.
  for (const [name, fn] of Object.entries(activities)) Object.defineProperty(fn, 'name', { value: name });
  return activities;
}

export type Activities = ReturnType<typeof createActivities>;
