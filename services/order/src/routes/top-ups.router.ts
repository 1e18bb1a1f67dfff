import Router from '@koa/router';
import {
  type ApiOperation,
  type EntityManager,
  parseBody,
  parseParams,
  readIdempotencyKey,
} from '@shop/platform';
import { z } from 'zod';
import { requestFaultsFrom } from '../saga/faults.ts';
import type { TopUpSaga } from '../saga/top-up-saga.ts';
import { createTopUp, getTopUp, listUserTopUps } from '../top-ups/top-ups.ts';

const idParams = z.object({ id: z.uuid() });
/** At most what the user service credits at once. */
const topUpBody = z.object({ userId: z.uuid(), amount: z.number().int().min(1000).max(100_000_000) });

export const topUpsOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/top-ups',
    summary: 'Buys points (1 KRW each): recorded PENDING, paid, then credited once captured',
    body: topUpBody,
    idempotencyKey: 'optional',
    responses: { 202: { description: '`{topUpId}`' } },
  },
  {
    method: 'get',
    path: '/top-ups/:id',
    summary: 'A top-up and its state',
    params: idParams,
    responses: { 200: { description: 'The top-up' } },
  },
  {
    method: 'get',
    path: '/users/:id/top-ups',
    summary: 'A user’s top-ups, newest first',
    params: idParams,
    responses: { 200: { description: '`{items}`' } },
  },
];

export function topUpsRouter(deps: { em: EntityManager; topUps: TopUpSaga; faultsEnabled: boolean }): Router {
  const { em, topUps } = deps;
  const router = new Router();

  /** 202 once the top-up is committed; its workflow (instance id: the top-up's id) pays, then credits. */
  router.post('/top-ups', async (ctx) => {
    const body = parseBody(ctx, topUpBody);
    const key = readIdempotencyKey(ctx, { required: false });
    const { topUp, created } = await createTopUp(em, body, key);
    const faults = deps.faultsEnabled ? requestFaultsFrom(ctx) : undefined;
    if (!faults?.skipSchedule) {
      // Committed, so accepted: a workflow that cannot be scheduled now is scheduled by the reconciler.
      await topUps
        .start(topUp, { repeat: !created, paymentFault: faults?.saga.paymentFault })
        .catch((err) => ctx.state.log.warn({ err, topUpId: topUp.topUpId }, 'workflow not scheduled yet'));
    }
    ctx.status = 202;
    ctx.set('location', `/top-ups/${topUp.topUpId}`);
    ctx.body = { topUpId: topUp.topUpId };
  });
  router.get('/top-ups/:id', async (ctx) => {
    ctx.body = await getTopUp(em, parseParams(ctx, idParams).id);
  });
  router.get('/users/:id/top-ups', async (ctx) => {
    ctx.body = { items: await listUserTopUps(em, parseParams(ctx, idParams).id) };
  });
  return router;
}
