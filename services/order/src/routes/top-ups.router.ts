import { type EntityManager, Routes, readIdempotencyKey } from '@shop/platform';
import { z } from 'zod';
import { requestFaultsFrom } from '../saga/faults.ts';
import type { TopUpSaga } from '../saga/top-up-saga.ts';
import { createTopUp, getTopUp, listTopUpsByStatus, listUserTopUps } from '../top-ups/top-ups.ts';

const idParams = z.object({ id: z.uuid() });
/** At most what the user service credits at once. */
const topUpBody = z.object({ userId: z.uuid(), amount: z.number().int().min(1000).max(100_000_000) });
const opsQuery = z.object({
  status: z.enum(['PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION']).default('NEEDS_ATTENTION'),
});

export function topUpsRoutes(deps: { em: EntityManager; topUps: TopUpSaga; faultsEnabled: boolean }): Routes {
  const { em, topUps } = deps;
  return (
    new Routes()
      /** 202 once the top-up is committed; its workflow (instance id: the top-up's id) pays, then credits. */
      .add(
        {
          method: 'post',
          path: '/top-ups',
          summary: 'Buys points (1 KRW each): recorded PENDING, paid, then credited once captured',
          body: topUpBody,
          idempotencyKey: 'optional',
          responses: { 202: { description: '`{topUpId}`' } },
        },
        async (ctx, { body }) => {
          const key = readIdempotencyKey(ctx, { required: false });
          const { topUp, created } = await createTopUp(em, body, key);
          const faults = deps.faultsEnabled ? requestFaultsFrom(ctx) : undefined;
          if (!faults?.skipSchedule) {
            // Committed, so accepted: a workflow that cannot be scheduled now is scheduled by the reconciler.
            await topUps
              .start(topUp, { repeat: !created, faults: faults?.saga })
              .catch((err) =>
                ctx.state.log.warn({ err, topUpId: topUp.topUpId }, 'workflow not scheduled yet'),
              );
          }
          ctx.status = 202;
          ctx.set('location', `/top-ups/${topUp.topUpId}`);
          ctx.body = { topUpId: topUp.topUpId };
        },
      )
      .add(
        {
          method: 'get',
          path: '/top-ups/:id',
          summary: 'A top-up and its state',
          params: idParams,
          responses: { 200: { description: 'The top-up' } },
        },
        async (ctx, { params }) => {
          ctx.body = await getTopUp(em, params.id);
        },
      )
      .add(
        {
          method: 'get',
          path: '/users/:id/top-ups',
          summary: 'A user’s top-ups, newest first',
          params: idParams,
          responses: { 200: { description: '`{items}`' } },
        },
        async (ctx, { params }) => {
          ctx.body = { items: await listUserTopUps(em, params.id) };
        },
      )
      // Operators: top-ups paid and not credited (the account refused the points), to refund or credit by hand.
      .add(
        {
          method: 'get',
          path: '/ops/top-ups',
          summary: 'Operations: top-ups by status (NEEDS_ATTENTION by default)',
          query: opsQuery,
          responses: { 200: { description: '`{items}`, newest first' } },
        },
        async (ctx, { query }) => {
          ctx.body = { items: await listTopUpsByStatus(em, query.status) };
        },
      )
  );
}
