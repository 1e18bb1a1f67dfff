import { type EntityManager, type EventHandler, NotFoundError, PermanentEventError } from '@shop/platform';
import { z } from 'zod';
import { ORDER_EVENTS, OrderEventType } from '../events/topics.ts';
import type { OrderView } from '../orders/order.model.ts';
import { findOrder } from '../orders/order.repository.ts';
import { enqueueExport } from './exports.ts';
import { toRecord } from './order-record.ts';

const data = z.object({ orderId: z.uuid() });

/**
 * Queues each completed order's record for the data platform, once per event
 * (the inbox), and nothing more: the exporter sends it, so a platform that is
 * slow or away never holds up this consumer or any order.
 */
export function orderExportHandler(em: EntityManager): EventHandler<typeof data, OrderView> {
  return {
    consumer: 'order.export',
    topic: ORDER_EVENTS,
    eventType: OrderEventType.OrderCompleted,
    data,
    prepare: ({ orderId }) =>
      findOrder(em, orderId).catch((err) => {
        if (err instanceof NotFoundError) throw new PermanentEventError(`order ${orderId} does not exist`);
        throw err;
      }),
    async handle(tx, _data, _event, order) {
      if (order.status !== 'COMPLETED')
        throw new PermanentEventError(`order ${order.orderId} is ${order.status}, not COMPLETED`);
      await enqueueExport(tx, toRecord(order));
    },
  };
}
