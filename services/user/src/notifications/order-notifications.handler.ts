import {
  DaprHttpError,
  type DaprSidecar,
  type EventHandler,
  type Logger,
  PermanentEventError,
} from '@shop/platform';
import { z } from 'zod';
import { recordNotification } from './notifications.ts';

export const ORDER_EVENTS = 'order-events';
const data = z.object({ orderId: z.uuid(), reason: z.string().optional() });

const message = (type: string, orderId: string, reason?: string) =>
  type === 'OrderCompleted'
    ? `Your order ${orderId} is confirmed.`
    : `Your order ${orderId} could not be completed${reason ? `: ${reason}` : ''}. Nothing was charged.`;

/**
 * Tells the buyer how the order ended. The event carries the order id only, so
 * the buyer is read from the order service; the notification is stored (and
 * logged — a mail or push gateway would go here) once per event, through the inbox.
 */
export function orderNotificationHandlers(
  sidecar: DaprSidecar,
  log: Logger,
): EventHandler<typeof data, { userId: string }>[] {
  return ['OrderCompleted', 'OrderFailed'].map((eventType) => ({
    consumer: `user.notify-${eventType}`,
    topic: ORDER_EVENTS,
    eventType,
    data,
    // Read before the inbox transaction opens.
    prepare: ({ orderId }) =>
      sidecar.invoke<{ userId: string }>('order', `orders/${orderId}`, 'GET').catch((err) => {
        if (err instanceof DaprHttpError && err.status === 404)
          throw new PermanentEventError(`order ${orderId} does not exist`);
        throw err;
      }),
    async handle(tx, { orderId, reason }, _event, order) {
      const text = message(eventType, orderId, reason);
      await recordNotification(tx, { userId: order.userId, orderId, kind: eventType, message: text });
      log.info({ userId: order.userId, orderId, kind: eventType }, `notify: ${text}`);
    },
  }));
}
