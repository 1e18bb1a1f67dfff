import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type EntityManager,
  type Role,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  uuidv7,
} from '@shop/platform';
import { SignJWT } from 'jose';
import { db, RefreshTokenEntity } from '../db/entities.ts';
import { InvalidRefreshTokenError } from './auth.errors.ts';
import type { SigningKey } from './signing-key.ts';

export interface TokenSettings {
  key: SigningKey;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

/** A short-lived ES256 JWT: `sub` the user id, `role` what the gateway checks. */
export function signAccessToken(settings: TokenSettings, user: { id: string; role: Role }): Promise<string> {
  return new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: settings.key.kid, typ: 'at+jwt' })
    .setSubject(user.id)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setJti(uuidv7())
    .setExpirationTime(`${settings.accessTtlSeconds}s`)
    .sign(settings.key.privateKey);
}

const sha256 = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * Refresh tokens are opaque, `<id>.<secret>`: the row is found by id and only
 * the secret's SHA-256 is stored, so a copy of the table signs nobody in. Each
 * is used once (rotation): using it revokes it and issues the next one in the
 * same transaction. Using a revoked one again means it was copied, so every
 * token of that user is revoked (OAuth 2.0 Security BCP §4.14).
 */
async function newRefreshToken(tx: EntityManager, settings: TokenSettings, userId: string): Promise<string> {
  const id = uuidv7();
  const secret = randomBytes(32).toString('base64url');
  await tx.insert(RefreshTokenEntity, {
    id,
    userId,
    tokenHash: sha256(secret).toString('hex'),
    expiresAt: new Date(Date.now() + settings.refreshTtlSeconds * 1000),
    createdAt: new Date(),
  });
  return `${id}.${secret}`;
}

async function pairFor(tx: EntityManager, settings: TokenSettings, user: { id: string; role: Role }) {
  return {
    tokenType: 'Bearer' as const,
    accessToken: await signAccessToken(settings, user),
    expiresIn: settings.accessTtlSeconds,
    refreshToken: await newRefreshToken(tx, settings, user.id),
    refreshExpiresIn: settings.refreshTtlSeconds,
  };
}

export const issueTokens = (em: EntityManager, settings: TokenSettings, user: { id: string; role: Role }) =>
  em.fork().transactional((tx) => pairFor(tx, settings, user));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The row of a presented refresh token, if its secret matches (compared in constant time). */
async function findRefreshToken(tx: EntityManager, presented: string) {
  const [id, secret] = presented.split('.');
  if (!id || !secret || !UUID.test(id)) return undefined;
  const row = await db(tx)
    .selectFrom('refresh_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.user_id', 't.token_hash', 't.revoked_at', 't.expires_at', 'u.role'])
    .where('t.id', '=', id)
    .forUpdate('t')
    .executeTakeFirst();
  if (!row) return undefined;
  const expected = Buffer.from(row.token_hash, 'hex');
  const actual = sha256(secret);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return {
    id,
    userId: row.user_id,
    role: row.role,
    revoked: row.revoked_at !== null,
    // The expiry was set on this clock (newRefreshToken); the driver gives the time as text.
    expired: new Date(row.expires_at) <= new Date(),
  };
}

/** Exchanges a refresh token for a new pair; the presented one cannot be used again. */
export function refreshTokens(
  em: EntityManager,
  settings: TokenSettings,
  presented: string,
): Promise<TokenPair> {
  return em
    .fork()
    .transactional(async (tx) => {
      const token = await findRefreshToken(tx, presented);
      if (!token || token.expired) throw new InvalidRefreshTokenError();
      if (token.revoked) {
        await tx.nativeUpdate(
          RefreshTokenEntity,
          { userId: token.userId, revokedAt: null },
          { revokedAt: new Date() },
        );
        return { reused: true as const };
      }
      await tx.nativeUpdate(RefreshTokenEntity, { id: token.id }, { revokedAt: new Date() });
      return pairFor(tx, settings, { id: token.userId, role: token.role });
    })
    .then((result) => {
      // Thrown after the commit, so that the revocation of the user's tokens stays.
      if ('reused' in result) throw new InvalidRefreshTokenError();
      return result;
    });
}

/** Signs out: the refresh token is revoked (the access token just runs out). Unknown tokens are ignored. */
export async function revokeRefreshToken(em: EntityManager, presented: string): Promise<void> {
  await em.fork().transactional(async (tx) => {
    const token = await findRefreshToken(tx, presented);
    if (token)
      await tx.nativeUpdate(RefreshTokenEntity, { id: token.id, revokedAt: null }, { revokedAt: new Date() });
  });
}
