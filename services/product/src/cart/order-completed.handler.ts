import type { EventHandler } from '@shop/platform';
import { z } from 'zod';
import { ORDER_EVENTS } from '../events/topics.ts';
import { removeOrdered } from './cart.ts';

const data = z.object({ orderId: z.uuid(), userId: z.uuid().optional(), fromCart: z.boolean().optional() });

/**
 * Empties the cart an order was placed from once the order completes (once,
 * through the inbox); a failed order leaves the cart as it was. An order not
 * placed from a cart does not touch it.
 */
export function cartOrderCompletedHandler(): EventHandler<typeof data> {
  return {
    consumer: 'product.cart',
    topic: ORDER_EVENTS,
    eventType: 'OrderCompleted',
    data,
    async handle(tx, { orderId, userId, fromCart }) {
      if (fromCart && userId) await removeOrdered(tx, userId, orderId);
    },
  };
}
