import { addToOutbox, type EntityManager, newEvent } from '@shop/platform';
import { ORDER_EVENTS, OrderEventType } from '../events/topics.ts';
import type { OrderStatus, Step, StepState } from './order.model.ts';
import { endOrder, setStepState } from './order.repository.ts';
import { ordersEnded, sagaStepStates } from './order-metrics.ts';

/** What the saga records as it goes: each step's state, and the order's ending. */

export async function markStep(
  em: EntityManager,
  orderId: string,
  step: Step,
  state: StepState,
  detail?: string,
  /** The refusal's problem type, when a service refused the step. */
  problemType?: string,
): Promise<void> {
  await setStepState(em.fork(), orderId, step, state, detail ?? null, problemType ?? null);
  sagaStepStates.inc({ step, state });
}

/**
 * Ends the order: COMPLETED or FAILED with its event in the outbox (one
 * transaction), or NEEDS_ATTENTION when a compensation ran out of attempts.
 * Idempotent: an order already ended keeps its first ending. A COMPLETED
 * order's last step is recorded done in the same transaction, so that no
 * reader (the progress stream's last event) sees it ended with a step running.
 */
export async function finishOrder(
  em: EntityManager,
  orderId: string,
  status: Exclude<OrderStatus, 'PENDING'>,
  reason?: string,
): Promise<void> {
  const ended = await em.fork().transactional(async (tx) => {
    const order = await endOrder(tx, orderId, status, reason ?? null);
    if (!order) return false;
    if (status === 'NEEDS_ATTENTION') return true;
    if (status === 'COMPLETED') await setStepState(tx, orderId, 'completeOrder', 'done', null, null);
    const type = status === 'COMPLETED' ? OrderEventType.OrderCompleted : OrderEventType.OrderFailed;
    await addToOutbox(
      tx,
      newEvent({
        topic: ORDER_EVENTS,
        type,
        source: 'order',
        subject: orderId,
        // A cart's order names its buyer, whose cart the product service then empties of it.
        data: {
          orderId,
          ...(reason ? { reason } : {}),
          ...(order.fromCart ? { userId: order.userId, fromCart: true } : {}),
        },
      }),
    );
    return true;
  });
  if (ended) ordersEnded.inc({ status });
}
