import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { withTraceparent } from '@shop/platform';
import { AppId } from '../events/topics.ts';
import { finishTopUp } from '../top-ups/top-ups.ts';
import { paymentStatusOf, type SagaDeps, type StepResult, startPaymentOf, stepCaller } from './activities.ts';
import { STEP_ATTEMPTS } from './place-order.workflow.ts';
import { type ActivityOf, type Exhausted, type Gen, type InputOf, UNTIL_DONE, withRetry } from './retry.ts';

export const TOP_UP_WORKFLOW = 'topUpWorkflow';

export interface TopUpInput {
  topUpId: string;
  userId: string;
  amount: number;
  traceparent?: string;
}

/**
 * The top-up's activities. The payment service keeps the payment under the
 * top-up's id (as it keeps an order's under the order's), and every call is
 * idempotent by that id.
 */
export function createTopUpActivities(deps: Omit<SagaDeps, 'outboxWritten'>) {
  const call = stepCaller(deps);
  const activities = {
    startTopUpPayment: (_: WorkflowActivityContext, i: { topUpId: string; amount: number }) =>
      startPaymentOf(call, { id: i.topUpId, amount: i.amount }),
    topUpPaymentStatus: (_: WorkflowActivityContext, i: { topUpId: string }) =>
      paymentStatusOf(deps.sidecar, i.topUpId),
    captureTopUpPayment: (_: WorkflowActivityContext, i: { topUpId: string }) =>
      call(AppId.payment, 'saga/payments/complete', { orderId: i.topUpId }),
    cancelTopUpPayment: (_: WorkflowActivityContext, i: { topUpId: string }) =>
      call(AppId.payment, 'saga/payments/cancel', { orderId: i.topUpId }),
    /**
     * Credits the points (user service, once per top-up), then ends the top-up
     * COMPLETED. A refusal (no such account) is returned: the workflow then
     * hands the top-up to an operator rather than asking forever.
     */
    creditTopUp: async (
      _: WorkflowActivityContext,
      i: { topUpId: string; userId: string; amount: number },
    ): Promise<StepResult> => {
      const credited = await call(AppId.user, 'saga/points/credit', i);
      if (credited.ok) await finishTopUp(deps.em, i.topUpId, 'COMPLETED');
      return credited;
    },
    endTopUp: async (
      _: WorkflowActivityContext,
      i: { topUpId: string; status: 'FAILED' | 'NEEDS_ATTENTION'; reason: string },
    ) => {
      await finishTopUp(deps.em, i.topUpId, i.status, i.reason);
    },
  };
  // The workflow calls activities by function; the SDK finds them by the function's name.
  for (const [name, fn] of Object.entries(activities)) Object.defineProperty(fn, 'name', { value: name });
  return activities;
}

export type TopUpActivities = ReturnType<typeof createTopUpActivities>;

/**
 * A paid top-up: the payment started (authorised), captured, and only then
 * the points credited. Before the capture, a refusal cancels the payment (a
 * start that timed out may still land; the cancel then refuses it) and fails
 * the top-up; the capture is the pivot, asked until it answers; after it the
 * credit only goes forward, retried until it is done, or until the user
 * service refuses it (then NEEDS_ATTENTION, the money taken: an operator's case). Every call is
 * idempotent by the top-up's id, so a replay or a second run changes nothing twice.
 */
export function topUpWorkflow(a: TopUpActivities): TWorkflow {
  return async function* (ctx: WorkflowContext, input: TopUpInput): Gen<unknown> {
    const { topUpId } = input;
    const retry = <I, T>(activity: ActivityOf<I, T>, arg: InputOf<I>, attempts: number) =>
      withRetry(ctx, activity, withTraceparent(arg, input.traceparent), attempts);

    async function* fail(reason: string): Gen<unknown> {
      yield* retry(a.cancelTopUpPayment, { topUpId }, UNTIL_DONE);
      yield* retry(a.endTopUp, { topUpId, status: 'FAILED', reason }, UNTIL_DONE);
      return { topUpId, status: 'FAILED', reason };
    }

    let started = (yield* retry(a.startTopUpPayment, { topUpId, amount: input.amount }, STEP_ATTEMPTS)) as
      | StepResult
      | Exhausted;
    if (!started.ok && ('ambiguous' in started || 'exhausted' in started)) {
      // Timed out (or kept failing): the payment may have been made. Ask before deciding.
      const status = (yield* retry(a.topUpPaymentStatus, { topUpId }, UNTIL_DONE)) as string | null;
      started =
        status === 'STARTED'
          ? { ok: true, value: { status } }
          : { ok: false, reason: `payment timed out; its state is ${status ?? 'unknown'}` };
    }
    if (!started.ok) return yield* fail(`payment refused: ${started.reason}`);

    const captured = (yield* retry(a.captureTopUpPayment, { topUpId }, UNTIL_DONE)) as StepResult;
    if (!captured.ok) return yield* fail(`payment not completed: ${captured.reason}`);

    const credited = (yield* retry(
      a.creditTopUp,
      { topUpId, userId: input.userId, amount: input.amount },
      UNTIL_DONE,
    )) as StepResult;
    if (!credited.ok) {
      // Paid, and the user service will not credit it (the account is gone): asking again would
      // change nothing but grow this workflow's history forever. An operator refunds or credits it.
      const reason = `paid, but the points were not credited: ${credited.reason}`;
      yield* retry(a.endTopUp, { topUpId, status: 'NEEDS_ATTENTION', reason }, UNTIL_DONE);
      return { topUpId, status: 'NEEDS_ATTENTION', reason };
    }
    return { topUpId, status: 'COMPLETED' };
  } as unknown as TWorkflow;
}
