import type { Task, TWorkflow, WorkflowContext } from '@dapr/dapr';
import type { Activities, StepResult } from './activities.ts';
import { COMPENSATION_ATTEMPTS } from './place-order.workflow.ts';

export const COMPENSATE_ORDER_WORKFLOW = 'compensateOrderWorkflow';

/**
 * The operator's re-drive of an order that NEEDS_ATTENTION: every compensation
 * of the saga, in reverse, whether or not its step ran — each is idempotent and
 * a no-op (or a tombstone) for a step that never happened — then FAILED.
 */
export function compensateOrderWorkflow(a: Activities): TWorkflow {
  return async function* (
    ctx: WorkflowContext,
    input: { orderId: string; userId: string; reason: string; compensationAttempts?: number },
  ): AsyncGenerator<Task<unknown>, unknown, unknown> {
    const { orderId, userId } = input;
    const undo = [
      [a.refundPoints, { orderId, userId }],
      [a.cancelPayment, { orderId }],
      [a.restoreStock, { orderId }],
      [a.removeCoupon, { orderId }],
      [a.restoreCoupon, { orderId }],
    ] as const;
    for (const [activity, arg] of undo) {
      let delay = 1;
      for (let attempt = 1; ; attempt++) {
        try {
          const result = (yield ctx.callActivity(activity as never, arg as never)) as StepResult;
          if (result.ok) break;
          throw new Error(result.reason);
        } catch (err) {
          if (attempt >= (input.compensationAttempts ?? COMPENSATION_ATTEMPTS)) {
            yield ctx.callActivity(a.endOrder, {
              orderId,
              status: 'NEEDS_ATTENTION',
              reason: `re-drive stopped: ${(err as Error).message}`,
            });
            return { orderId, status: 'NEEDS_ATTENTION' };
          }
          yield ctx.createTimer(delay);
          delay = Math.min(delay * 2, 30);
        }
      }
    }
    yield ctx.callActivity(a.endOrder, { orderId, status: 'FAILED', reason: input.reason });
    return { orderId, status: 'FAILED' };
  } as unknown as TWorkflow;
}
