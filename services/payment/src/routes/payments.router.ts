import { type EntityManager, Routes } from '@shop/platform';
import { z } from 'zod';
import { FAULT_HEADER, type FakeGateway, parseFault } from '../payments/fake-gateway.ts';
import { cancelPayment, completePayment, getPayment, startPayment } from '../payments/payments.ts';

const orderParams = z.object({ orderId: z.uuid() });
const startBody = z.object({ orderId: z.uuid(), amount: z.number().int().min(0).max(1_000_000_000) });
const orderBody = z.object({ orderId: z.uuid() });

export interface PaymentRoutesOptions {
  gateway: FakeGateway;
  /** Honour the x-fake-gateway header (tests, local runs); never in production. */
  faultsEnabled: boolean;
  outboxWritten: () => void;
}

/** Public read, and the saga's steps (called through Dapr service invocation). */
export function paymentsRoutes(em: EntityManager, options: PaymentRoutesOptions): Routes {
  const faultOf = (ctx: { get(name: string): string }) =>
    options.faultsEnabled ? parseFault(ctx.get(FAULT_HEADER) || undefined) : undefined;
  return new Routes()
    .add(
      {
        method: 'get',
        path: '/payments/:orderId',
        summary: 'An order’s payment and its state',
        params: orderParams,
        responses: { 200: { description: 'The payment' } },
      },
      async (ctx, { params }) => {
        ctx.body = await getPayment(em, params.orderId);
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/payments/start',
        summary: 'Saga step: asks the gateway, once per order',
        body: startBody,
        responses: { 200: { description: 'The payment, STARTED' } },
        problems: [409],
      },
      async (ctx, { body }) => {
        ctx.body = await startPayment(em, options.gateway, body, faultOf(ctx));
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/payments/complete',
        summary: 'Saga step: the capture',
        body: orderBody,
        responses: { 200: { description: 'The payment, COMPLETED' } },
        problems: [404, 409],
      },
      async (ctx, { body }) => {
        ctx.body = await completePayment(em, options.gateway, body.orderId, faultOf(ctx));
        options.outboxWritten();
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/payments/cancel',
        summary: 'Compensation: voids or records the payment CANCELLED',
        body: orderBody,
        responses: { 200: { description: 'The payment, CANCELLED' } },
        problems: [409],
      },
      async (ctx, { body }) => {
        ctx.body = await cancelPayment(em, options.gateway, body.orderId);
        options.outboxWritten();
      },
    );
}
