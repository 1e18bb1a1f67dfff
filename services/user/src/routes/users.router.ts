import { type EntityManager, Routes } from '@shop/platform';
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

export function usersRoutes(em: EntityManager, outboxWritten: () => void): Routes {
  return (
    new Routes()
      /** Inside the mesh (services, tests): the user, or 409 `email-taken`. */
      .add(
        {
          method: 'post',
          path: '/users',
          summary: 'Registers a customer (with a password: one who can sign in)',
          body: registerBody,
          responses: { 201: { description: 'The user' } },
          problems: [409],
        },
        async (ctx, { body }) => {
          const user = await registerUser(em, body);
          outboxWritten();
          ctx.status = 201;
          ctx.set('location', `/users/${user.id}`);
          ctx.body = user;
        },
      )
      .add(
        {
          method: 'post',
          path: '/auth/sign-up',
          summary:
            'Signs up (the public `POST /users`): the same 202 whether the email was free or taken, so a stranger cannot tell which emails exist',
          body: signUpBody,
          responses: { 202: { description: '`{detail}`: sign in with the password' } },
        },
        async (ctx, { body }) => {
          if (await signUp(em, body)) outboxWritten();
          ctx.status = 202;
          ctx.body = {
            detail: 'If this email was not registered yet, the account is made: sign in with your password.',
          };
        },
      )
      .add(
        {
          method: 'get',
          path: '/users/:id',
          summary: 'A user',
          params: idParams,
          responses: { 200: { description: 'The user' } },
        },
        async (ctx, { params }) => {
          ctx.body = await getUser(em, params.id);
        },
      )
  );
}
