import Router from '@koa/router';
import { type ApiOperation, type EntityManager, parseParams } from '@shop/platform';
import { z } from 'zod';
import { listNotifications } from '../notifications/notifications.ts';

const userParams = z.object({ id: z.uuid() });

export const notificationsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/users/:id/notifications',
    summary: 'What the user was told, newest first',
    params: userParams,
    responses: { 200: { description: '`{items}`' } },
  },
];

export function notificationsRouter(em: EntityManager): Router {
  const router = new Router();
  router.get('/users/:id/notifications', async (ctx) => {
    ctx.body = { items: await listNotifications(em, parseParams(ctx, userParams).id) };
  });
  return router;
}
