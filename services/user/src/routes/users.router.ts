import Router from '@koa/router';
import { type ApiOperation, type EntityManager, parseBody, parseParams } from '@shop/platform';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { getUser, registerUser, signUp } from '../users/users.ts';

const registerBody = z.object({
  email: z.email().max(254),
  name: z.string().trim().min(1).max(100),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH).optional(),
});
const signUpBody = registerBody.required({ password: true });
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
    method: 'post',
    path: '/auth/sign-up',
    summary:
      'Signs up (the public `POST /users`): the same 202 whether the email was free or taken, so a stranger cannot tell which emails exist',
    body: signUpBody,
    responses: { 202: { description: '`{detail}`: sign in with the password' } },
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
  const router = new Router();
  /** Inside the mesh (services, tests): the user, or 409 `email-taken`. */
  router.post('/users', async (ctx) => {
    const user = await registerUser(em, parseBody(ctx, registerBody));
    outboxWritten();
    ctx.status = 201;
    ctx.set('location', `/users/${user.id}`);
    ctx.body = user;
  });
  router.post('/auth/sign-up', async (ctx) => {
    if (await signUp(em, parseBody(ctx, signUpBody))) outboxWritten();
    ctx.status = 202;
    ctx.body = {
      detail: 'If this email was not registered yet, the account is made: sign in with your password.',
    };
  });
  router.get('/users/:id', async (ctx) => {
    ctx.body = await getUser(em, parseParams(ctx, idParams).id);
  });
  return router;
}
