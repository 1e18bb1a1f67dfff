import {
  type EntityManager,
  ForbiddenError,
  pageQuerySchema,
  Routes,
  readIdempotencyKey,
} from '@shop/platform';
import type { Context } from 'koa';
import { z } from 'zod';
import {
  creditTopUp,
  deductPoints,
  getBalance,
  grantPoints,
  listLedger,
  refundPoints,
} from '../points/points.ts';

const userParams = z.object({ id: z.uuid() });
const points = z.number().int().positive().max(100_000_000);
const grantBody = z.object({
  amount: points,
  reason: z.string().trim().min(3).max(500),
  idempotencyKey: z.string().min(8).max(100).optional(),
});
const creditBody = z.object({ topUpId: z.uuid(), userId: z.uuid(), amount: points });
const deductBody = z.object({ orderId: z.uuid(), userId: z.uuid(), amount: points });
const refundBody = z.object({ orderId: z.uuid(), userId: z.uuid() });

/**
 * The admin or operator behind a grant, as the gateway names them (it sets
 * these headers itself and never passes a client's own): a grant without one
 * is refused, so that every grant's entry says who gave it.
 */
function grantor(ctx: Context): string {
  const id = ctx.get('x-user-id');
  if (!z.uuid().safeParse(id).success || !['admin', 'ops'].includes(ctx.get('x-user-role'))) {
    throw new ForbiddenError('grant-not-allowed', 'Points are granted by an admin or an operator');
  }
  return id;
}

/** Points: the public API, and the sagas' steps (called through Dapr service invocation). */
export function pointsRoutes(em: EntityManager, outboxWritten: () => void): Routes {
  return new Routes()
    .add(
      {
        method: 'post',
        path: '/users/:id/points/grants',
        summary:
          'Admins and operators: gives points with a reason, once per idempotency key (the header, or the `idempotencyKey` field)',
        params: userParams,
        body: grantBody,
        idempotencyKey: 'optional',
        responses: { 200: { description: 'The ledger entry (kind GRANT)' } },
        problems: [403, 404],
      },
      async (ctx, { params, body }) => {
        const { id } = params;
        const grantedBy = grantor(ctx);
        // The key may come as the Idempotency-Key header or in the body.
        const idempotencyKey = readIdempotencyKey(ctx, { required: true, fallback: body.idempotencyKey })!;
        ctx.body = await grantPoints(em, {
          userId: id,
          amount: body.amount,
          reason: body.reason,
          grantedBy,
          idempotencyKey,
        });
        outboxWritten();
      },
    )
    .add(
      {
        method: 'get',
        path: '/users/:id/points',
        summary: 'The balance',
        params: userParams,
        responses: { 200: { description: '`{userId, balance}`' } },
      },
      async (ctx, { params }) => {
        ctx.body = await getBalance(em, params.id);
      },
    )
    .add(
      {
        method: 'get',
        path: '/users/:id/points/ledger',
        summary: 'Ledger entries, newest first',
        params: userParams,
        query: pageQuerySchema,
        responses: { 200: { description: 'A page of entries' } },
      },
      async (ctx, { params, query }) => {
        ctx.body = await listLedger(em, params.id, query);
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/points/credit',
        summary: 'Top-up step: credits a captured top-up, once per top-up',
        body: creditBody,
        responses: { 200: { description: 'The ledger entry (kind CHARGE)' } },
        problems: [404],
      },
      async (ctx, { body }) => {
        ctx.body = await creditTopUp(em, body);
        outboxWritten();
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/points/deduct',
        summary: 'Saga step: takes the order’s points, once per order',
        body: deductBody,
        responses: { 200: { description: 'The ledger entry' } },
        problems: [404, 409],
      },
      async (ctx, { body }) => {
        ctx.body = await deductPoints(em, body);
        outboxWritten();
      },
    )
    .add(
      {
        method: 'post',
        path: '/saga/points/refund',
        summary: 'Compensation: gives back what the order took, once',
        body: refundBody,
        responses: { 200: { description: 'The refund' } },
        problems: [404, 409],
      },
      async (ctx, { body }) => {
        ctx.body = await refundPoints(em, body);
        outboxWritten();
      },
    );
}
