import { type EntityManager, Routes } from '@shop/platform';
import { z } from 'zod';
import { listNotifications } from '../notifications/notifications.ts';

const userParams = z.object({ id: z.uuid() });

export function notificationsRoutes(em: EntityManager): Routes {
  return new Routes().add(
    {
      method: 'get',
      path: '/users/:id/notifications',
      summary: 'What the user was told, newest first',
      params: userParams,
      responses: { 200: { description: '`{items}`' } },
    },
    async (ctx, { params }) => {
      ctx.body = { items: await listNotifications(em, params.id) };
    },
  );
}
