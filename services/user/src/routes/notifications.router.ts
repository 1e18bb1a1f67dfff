import Router from '@koa/router';
import { type ApiOperation, type EntityManager, parseParams } from '@shop/platform';
import { z } from 'zod';

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
  /** What the user was told, newest first. */
  router.get('/users/:id/notifications', async (ctx) => {
    const rows = await em
      .fork()
      .execute<{ order_id: string | null; kind: string; message: string; created_at: string }[]>(
        'select order_id, kind, message, created_at from notifications where user_id = ? order by created_at desc limit 100',
        [parseParams(ctx, userParams).id],
      );
    ctx.body = {
      items: rows.map((r) => ({
        orderId: r.order_id,
        kind: r.kind,
        message: r.message,
        createdAt: new Date(r.created_at).toISOString(),
      })),
    };
  });
  return router;
}
