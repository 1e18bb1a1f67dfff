import Router from '@koa/router';
import {
  type ApiOperation,
  type EntityManager,
  pageQuerySchema,
  parseBody,
  parseParams,
  parseQuery,
  readIdempotencyKey,
} from '@shop/platform';
import { z } from 'zod';
import { chargePoints, deductPoints, getBalance, listLedger, refundPoints } from '../points/points.ts';

const userParams = z.object({ id: z.uuid() });
const points = z.number().int().positive().max(100_000_000);
const chargeBody = z.object({ amount: points, idempotencyKey: z.string().min(8).max(100).optional() });
const deductBody = z.object({ orderId: z.uuid(), userId: z.uuid(), amount: points });
const refundBody = z.object({ orderId: z.uuid(), userId: z.uuid() });

export const pointsOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/users/:id/points/charge',
    summary: 'Adds points, once per idempotency key (the header, or the `idempotencyKey` field)',
    params: userParams,
    body: chargeBody,
    idempotencyKey: 'optional',
    responses: { 200: { description: 'The ledger entry' } },
  },
  {
    method: 'get',
    path: '/users/:id/points',
    summary: 'The balance',
    params: userParams,
    responses: { 200: { description: '`{userId, balance}`' } },
  },
  {
    method: 'get',
    path: '/users/:id/points/ledger',
    summary: 'Ledger entries, newest first',
    params: userParams,
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of entries' } },
  },
  {
    method: 'post',
    path: '/saga/points/deduct',
    summary: 'Saga step: takes the order’s points, once per order',
    body: deductBody,
    responses: { 200: { description: 'The ledger entry' } },
    problems: [404, 409],
  },
  {
    method: 'post',
    path: '/saga/points/refund',
    summary: 'Compensation: gives back what the order took, once',
    body: refundBody,
    responses: { 200: { description: 'The refund' } },
    problems: [404, 409],
  },
];

/** Points: the public API, and the saga's steps (called through Dapr service invocation). */
export function pointsRouter(em: EntityManager, outboxWritten: () => void): Router {
  const router = new Router();

  router.post('/users/:id/points/charge', async (ctx) => {
    const { id } = parseParams(ctx, userParams);
    const body = parseBody(ctx, chargeBody);
    // The key may come as the Idempotency-Key header or in the body.
    const idempotencyKey = readIdempotencyKey(ctx, { required: true, fallback: body.idempotencyKey })!;
    ctx.body = await chargePoints(em, { userId: id, amount: body.amount, idempotencyKey });
    outboxWritten();
  });
  router.get('/users/:id/points', async (ctx) => {
    ctx.body = await getBalance(em, parseParams(ctx, userParams).id);
  });
  router.get('/users/:id/points/ledger', async (ctx) => {
    ctx.body = await listLedger(em, parseParams(ctx, userParams).id, parseQuery(ctx, pageQuerySchema));
  });

  router.post('/saga/points/deduct', async (ctx) => {
    ctx.body = await deductPoints(em, parseBody(ctx, deductBody));
    outboxWritten();
  });
  router.post('/saga/points/refund', async (ctx) => {
    ctx.body = await refundPoints(em, parseBody(ctx, refundBody));
    outboxWritten();
  });
  return router;
}
