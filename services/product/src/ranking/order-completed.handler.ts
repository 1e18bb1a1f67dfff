import type { EventHandler, Redis } from '@shop/platform';
import { z } from 'zod';
import { db } from '../db/entities.ts';
import { ORDER_EVENTS } from '../events/topics.ts';
import { recordSales, utcDay } from './ranking.ts';

const data = z.object({ orderId: z.uuid() });

/**
 * Ranks sales on OrderCompleted. The event carries the order id only; what
 * was sold is what this service deducted for that order.
 */
export function orderCompletedHandler(redis: Redis): EventHandler<typeof data> {
  return {
    consumer: 'product.ranking',
    topic: ORDER_EVENTS,
    eventType: 'OrderCompleted',
    data,
    async handle(tx, { orderId }, event) {
      const rows = await db(tx)
        .selectFrom('stock_movements')
        .select(['product_id', 'quantity'])
        .where('order_id', '=', orderId)
        .where('kind', '=', 'DEDUCT')
        .execute();
      const day = utcDay(event.time ? new Date(event.time) : new Date());
      await recordSales(
        redis,
        event.id,
        day,
        rows.map((r) => ({ productId: r.product_id, quantity: Number(r.quantity) })),
      );
    },
  };
}
