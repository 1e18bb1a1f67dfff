import type { TWorkflow, WorkflowContext } from '@dapr/dapr';
import { withTraceparent } from '@shop/platform';
import type { Activities, StepResult } from './activities.ts';
import { allCompensations } from './compensations.ts';
import { COMPENSATION_ATTEMPTS } from './place-order.workflow.ts';
import { type Exhausted, type Gen, UNTIL_DONE, withRetry } from './retry.ts';

export const COMPENSATE_ORDER_WORKFLOW = 'compensateOrderWorkflow';

export interface CompensateOrderInput {
  orderId: string;
  userId: string;
  reason: string;
  compensationAttempts?: number;
  traceparent?: string;
}

/**
 * The operator's re-drive of an order that NEEDS_ATTENTION: every compensation
 * of the saga (compensations.ts), last step first, whether or not its step
 * ran — each is idempotent and a no-op (or a tombstone) for a step that never
 * happened — then FAILED. A refusal is retried like a transient error: the
 * re-drive is for compensations that did not go through. The ending is
 * recorded whatever it takes.
 */
export function compensateOrderWorkflow(a: Activities): TWorkflow {
  return async function* (ctx: WorkflowContext, input: CompensateOrderInput): Gen<unknown> {
    const { orderId } = input;
    // Every activity runs in the trace of the operator's re-drive request.
    const traced = <I>(arg: I) => withTraceparent(arg, input.traceparent);
    const end = (status: 'FAILED' | 'NEEDS_ATTENTION', reason: string) =>
      withRetry(ctx, a.endOrder, traced({ orderId, status, reason }), UNTIL_DONE);
    for (const { call } of allCompensations(a, input)) {
      const result = (yield* call((activity, arg) =>
        withRetry(ctx, activity, traced(arg), input.compensationAttempts ?? COMPENSATION_ATTEMPTS, {
          retryRefused: true,
        }),
      )) as StepResult | Exhausted;
      if (!result.ok) {
        yield* end('NEEDS_ATTENTION', `re-drive stopped: ${result.reason}`);
        return { orderId, status: 'NEEDS_ATTENTION' };
      }
    }
    yield* end('FAILED', input.reason);
    return { orderId, status: 'FAILED' };
  } as unknown as TWorkflow;
}
