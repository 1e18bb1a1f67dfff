import {
  BusinessRuleError,
  type DaprSidecar,
  type EntityManager,
  Routes,
  readIdempotencyKey,
  streamChanges,
} from '@shop/platform';
import { z } from 'zod';
import type { OrderView } from '../orders/order.model.ts';
import { findOrder, listOrdersByStatus, listUserOrders } from '../orders/order.repository.ts';
import { createOrder } from '../orders/place-order.ts';
import { requestFaultsFrom } from '../saga/faults.ts';
import type { OrderSaga } from '../saga/order-saga.ts';

const idParams = z.object({ id: z.uuid() });
const placeBody = z
  .object({
    userId: z.uuid(),
    items: z
      .array(z.object({ productId: z.uuid(), quantity: z.number().int().min(1).max(1000) }))
      .min(1)
      .max(50)
      .optional(),
    /** Order what the buyer's cart holds (instead of `items`). */
    fromCart: z.literal(true).optional(),
    couponId: z.uuid().optional(),
    pointsToUse: z.number().int().min(0).max(100_000_000).default(0),
  })
  .refine((b) => (b.items === undefined) !== (b.fromCart === undefined), {
    message: 'either items or fromCart: true',
    path: ['items'],
  });
const listQuery = z.object({
  status: z.enum(['PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION']).default('NEEDS_ATTENTION'),
});

const STREAM_POLL_MS = 250;
const STREAM_MAX_MS = 120_000;
const isTerminal = (o: OrderView) => o.status !== 'PENDING';

export interface OrderRoutesDeps {
  em: EntityManager;
  sidecar: DaprSidecar;
  saga: OrderSaga;
  /** Honour the fault headers of tests and local runs (see saga/faults.ts). */
  faultsEnabled: boolean;
}

export function ordersRoutes(deps: OrderRoutesDeps): Routes {
  const { em, saga } = deps;
  return (
    new Routes()
      /** 202 once the order is committed; the saga runs in a Dapr Workflow whose instance id is the order id. */
      .add(
        {
          method: 'post',
          path: '/orders',
          summary: 'Places an order: recorded PENDING, the saga started',
          body: placeBody,
          idempotencyKey: 'optional',
          responses: { 202: { description: '`{orderId}`' } },
        },
        async (ctx, { body }) => {
          const key = readIdempotencyKey(ctx, { required: false });
          const { order, created } = await createOrder(deps, { ...body, items: body.items ?? [] }, key);
          const faults = deps.faultsEnabled ? requestFaultsFrom(ctx) : { saga: {}, skipSchedule: false };
          if (!faults.skipSchedule) {
            // The order is committed, so it is accepted: if its workflow cannot be scheduled now (the
            // sidecar, placement or scheduler away), the reconciler schedules it. Answering an error
            // here would tell the client it failed while it goes on, and invite a second order.
            await saga
              .start(order, { repeat: !created, faults: faults.saga })
              .catch((err) =>
                ctx.state.log.warn({ err, orderId: order.orderId }, 'workflow not scheduled yet'),
              );
          }
          ctx.status = 202;
          ctx.set('location', `/orders/${order.orderId}`);
          ctx.body = { orderId: order.orderId };
        },
      )
      .add(
        {
          method: 'get',
          path: '/orders/:id',
          summary: 'An order, its amounts and every step’s state',
          params: idParams,
          responses: { 200: { description: 'The order' } },
        },
        async (ctx, { params }) => {
          ctx.body = await findOrder(em, params.id);
        },
      )
      /** Server-sent events: the order with its steps, on every change, until it ends. */
      .add(
        {
          method: 'get',
          path: '/orders/:id/events',
          summary: 'The same as server-sent events on every change, until it ends',
          params: idParams,
          responses: { 200: { description: '`event: order` per change', eventStream: true } },
        },
        async (ctx, { params }) => {
          const { id } = params;
          await streamChanges(ctx, {
            read: () => findOrder(em, id),
            isFinal: isTerminal,
            event: 'order',
            pollMs: STREAM_POLL_MS,
            maxMs: STREAM_MAX_MS,
          });
        },
      )
      .add(
        {
          method: 'get',
          path: '/users/:id/orders',
          summary: 'A user’s orders',
          params: idParams,
          responses: { 200: { description: '`{items}`' } },
        },
        async (ctx, { params }) => {
          ctx.body = { items: await listUserOrders(em, params.id) };
        },
      )
      // Operators: orders whose compensation gave up, and their re-drive.
      .add(
        {
          method: 'get',
          path: '/ops/orders',
          summary: 'Operations: orders by status (NEEDS_ATTENTION by default)',
          query: listQuery,
          responses: { 200: { description: '`{items}`' } },
        },
        async (ctx, { query }) => {
          const { status } = query;
          ctx.body = { items: await listOrdersByStatus(em, status, 200) };
        },
      )
      .add(
        {
          method: 'post',
          path: '/ops/orders/:id/redrive',
          summary: 'Operations: every compensation again, then FAILED',
          params: idParams,
          responses: { 202: { description: '`{orderId, instanceId}`' } },
          problems: [404, 409],
        },
        async (ctx, { params }) => {
          const order = await findOrder(em, params.id);
          if (order.status !== 'NEEDS_ATTENTION') {
            throw new BusinessRuleError(
              'order-not-stuck',
              'Only an order that needs attention can be re-driven',
              `The order is ${order.status}, not NEEDS_ATTENTION.`,
              { status: order.status },
            );
          }
          ctx.status = 202;
          ctx.body = { orderId: order.orderId, instanceId: await saga.redrive(order) };
        },
      )
  );
}
