import { type EntityManager, JWKS_PATH, Routes } from '@shop/platform';
import { z } from 'zod';
import { PasswordWorkBusyError, SignInDelayedError } from '../auth/auth.errors.ts';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { signIn } from '../auth/sign-in.ts';
import { refreshTokens, revokeRefreshToken, type TokenSettings } from '../auth/tokens.ts';

const loginBody = z.object({
  email: z.email().max(254),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});
const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) });

/** Sign-in, token refresh, sign-out, and the public keys that verify access tokens. */
export function authRoutes(em: EntityManager, settings: TokenSettings): Routes {
  return new Routes()
    .add(
      {
        method: 'post',
        path: '/auth/login',
        summary: 'Signs in: an access token and a refresh token',
        body: loginBody,
        responses: {
          200: {
            description:
              '`{accessToken, tokenType, expiresIn, refreshToken, refreshExpiresIn, userId, role}`',
          },
        },
        problems: [401, 429, 503],
      },
      async (ctx, { body }) => {
        try {
          ctx.body = await signIn(em, settings, body);
        } catch (err) {
          if (err instanceof SignInDelayedError || err instanceof PasswordWorkBusyError)
            ctx.set('retry-after', String(err.retryAfterSeconds));
          throw err;
        }
        ctx.set('cache-control', 'no-store');
      },
    )
    .add(
      {
        method: 'post',
        path: '/auth/refresh',
        summary: 'A new pair for a refresh token, which is used up',
        body: refreshBody,
        responses: { 200: { description: 'The new pair' } },
        problems: [401],
      },
      async (ctx, { body }) => {
        ctx.body = await refreshTokens(em, settings, body.refreshToken);
        ctx.set('cache-control', 'no-store');
      },
    )
    .add(
      {
        method: 'post',
        path: '/auth/logout',
        summary: 'Signs out: the refresh token is revoked',
        body: refreshBody,
        responses: { 204: { description: 'Revoked (or unknown)' } },
      },
      async (ctx, { body }) => {
        await revokeRefreshToken(em, body.refreshToken);
        ctx.status = 204;
      },
    )
    .add(
      {
        method: 'get',
        path: JWKS_PATH,
        summary: 'The public keys that verify access tokens',
        responses: { 200: { description: 'A JWK set' } },
      },
      (ctx) => {
        ctx.body = settings.key.jwks;
        // Verifiers may cache the keys a while; a rotation keeps the old key listed longer than this.
        ctx.set('cache-control', 'public, max-age=300');
      },
    );
}
