import Router from '@koa/router';
import { type ApiOperation, type EntityManager, parseBody, parseParams } from '@shop/platform';
import { z } from 'zod';
import { FAULT_HEADER, type FakeGateway, parseFault } from '../payments/fake-gateway.ts';
import { cancelPayment, completePayment, getPayment, startPayment } from '../payments/payments.ts';

const orderParams = z.object({ orderId: z.uuid() });
const startBody = z.object({ orderId: z.uuid(), amount: z.number().int().min(0).max(1_000_000_000) });
const orderBody = z.object({ orderId: z.uuid() });

export const paymentsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/payments/:orderId',
    summary: 'An order’s payment and its state',
    params: orderParams,
    responses: { 200: { description: 'The payment' } },
  },
  {
    method: 'post',
    path: '/saga/payments/start',
    summary: 'Saga step: asks the gateway, once per order',
    body: startBody,
    responses: { 200: { description: 'The payment, STARTED' } },
    problems: [409],
  },
  {
    method: 'post',
    path: '/saga/payments/complete',
    summary: 'Saga step: the capture',
    body: orderBody,
    responses: { 200: { description: 'The payment, COMPLETED' } },
    problems: [404, 409],
  },
  {
    method: 'post',
    path: '/saga/payments/cancel',
    summary: 'Compensation: voids or records the payment CANCELLED',
    body: orderBody,
    responses: { 200: { description: 'The payment, CANCELLED' } },
    problems: [409],
  },
];

export interface PaymentRoutesOptions {
  gateway: FakeGateway;
  /** Honour the x-fake-gateway header (tests, local runs); never in production. */
  faultsEnabled: boolean;
  outboxWritten: () => void;
}

/** Public read, and the saga's steps (called through Dapr service invocation). */
export function paymentsRouter(em: EntityManager, options: PaymentRoutesOptions): Router {
  const router = new Router();
  router.get('/payments/:orderId', async (ctx) => {
    ctx.body = await getPayment(em, parseParams(ctx, orderParams).orderId);
  });
  const faultOf = (ctx: { get(name: string): string }) =>
    options.faultsEnabled ? parseFault(ctx.get(FAULT_HEADER) || undefined) : undefined;

  router.post('/saga/payments/start', async (ctx) => {
    ctx.body = await startPayment(em, options.gateway, parseBody(ctx, startBody), faultOf(ctx));
  });
  router.post('/saga/payments/complete', async (ctx) => {
    ctx.body = await completePayment(em, options.gateway, parseBody(ctx, orderBody).orderId, faultOf(ctx));
    options.outboxWritten();
  });
  router.post('/saga/payments/cancel', async (ctx) => {
    ctx.body = await cancelPayment(em, options.gateway, parseBody(ctx, orderBody).orderId);
    options.outboxWritten();
  });
  return router;
}
