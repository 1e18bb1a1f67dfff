import type { Task, TWorkflow, WorkflowContext } from '@dapr/dapr';
import { withTraceparent } from '@shop/platform';
import type { Activities, StepResult } from './activities.ts';
import { COMPENSATION_ATTEMPTS } from './place-order.workflow.ts';
import { MAX_BACKOFF_S, UNTIL_DONE, withRetry } from './retry.ts';

export const COMPENSATE_ORDER_WORKFLOW = 'compensateOrderWorkflow';

/**
 * The operator's re-drive of an order that NEEDS_ATTENTION: every compensation
 * of the saga, in reverse, whether or not its step ran — each is idempotent and
 * a no-op (or a tombstone) for a step that never happened — then FAILED. A
 * refusal is retried like a transient error: the re-drive is for compensations
 * that did not go through. The ending is recorded whatever it takes.
 */
export function compensateOrderWorkflow(a: Activities): TWorkflow {
  return async function* (
    ctx: WorkflowContext,
    input: {
      orderId: string;
      userId: string;
      reason: string;
      compensationAttempts?: number;
      traceparent?: string;
    },
  ): AsyncGenerator<Task<unknown>, unknown, unknown> {
    const { orderId, userId } = input;
    // Every activity runs in the trace of the operator's re-drive request.
    const traced = (arg: unknown) => withTraceparent(arg, input.traceparent);
    const end = (status: 'FAILED' | 'NEEDS_ATTENTION', reason: string) =>
      withRetry(ctx, a.endOrder, traced({ orderId, status, reason }), UNTIL_DONE);
    const undo = [
      [a.refundPoints, { orderId, userId }],
      [a.cancelPayment, { orderId }],
      [a.restoreStock, { orderId }],
      [a.restoreCoupon, { orderId }],
    ] as const;
    for (const [activity, arg] of undo) {
      let delay = 1;
      for (let attempt = 1; ; attempt++) {
        try {
          const result = (yield ctx.callActivity(activity as never, traced(arg) as never)) as StepResult;
          if (result.ok) break;
          throw new Error(result.reason);
        } catch (err) {
          if (attempt >= (input.compensationAttempts ?? COMPENSATION_ATTEMPTS)) {
            yield* end('NEEDS_ATTENTION', `re-drive stopped: ${(err as Error).message}`);
            return { orderId, status: 'NEEDS_ATTENTION' };
          }
          yield ctx.createTimer(delay);
          delay = Math.min(delay * 2, MAX_BACKOFF_S);
        }
      }
    }
    yield* end('FAILED', input.reason);
    return { orderId, status: 'FAILED' };
  } as unknown as TWorkflow;
}
