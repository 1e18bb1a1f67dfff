import Router from '@koa/router';
import { type ApiOperation, type EntityManager, parseBody, parseParams } from '@shop/platform';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { getUser, registerUser } from '../users/users.ts';

const registerBody = z.object({
  email: z.email().max(254),
  name: z.string().trim().min(1).max(100),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH).optional(),
});
const idParams = z.object({ id: z.uuid() });

export const usersOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/users',
    summary: 'Registers a customer (with a password: one who can sign in)',
    body: registerBody,
    responses: { 201: { description: 'The user' } },
    problems: [409],
  },
  {
    method: 'get',
    path: '/users/:id',
    summary: 'A user',
    params: idParams,
    responses: { 200: { description: 'The user' } },
  },
];

export function usersRouter(em: EntityManager, outboxWritten: () => void): Router {
  const router = new Router({ prefix: '/users' });
  router.post('/', async (ctx) => {
    const user = await registerUser(em, parseBody(ctx, registerBody));
    outboxWritten();
    ctx.status = 201;
    ctx.set('location', `/users/${user.id}`);
    ctx.body = user;
  });
  router.get('/:id', async (ctx) => {
    ctx.body = await getUser(em, parseParams(ctx, idParams).id);
  });
  return router;
}
