import {
  type AccessClaims,
  accessClaimsSchema,
  type DaprSidecar,
  JWKS_PATH,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from '@shop/platform';
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { InvalidTokenError, UpstreamUnavailableError } from '../gateway.errors.ts';

export type VerifyAccessToken = (token: string) => Promise<AccessClaims>;

/** What a token that does not hold looks like (jose's codes); anything else is a failure to get the keys. */
const tokenFaults = new Set([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
]);

/**
 * Verifies against a key set: ES256 only, our issuer and audience, an expiry
 * (jose checks `exp` only when present: a token without one would never end),
 * and claims we can read.
 */
export function tokenVerifier(keys: JWTVerifyGetKey): VerifyAccessToken {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        typ: 'at+jwt',
        requiredClaims: ['exp'],
      });
      const claims = accessClaimsSchema.safeParse(payload);
      if (!claims.success) throw new InvalidTokenError('The token does not name a user and a role.');
      return claims.data;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      if (err instanceof errors.JOSEError && tokenFaults.has(err.code)) {
        throw new InvalidTokenError(
          err instanceof errors.JWTExpired
            ? 'The token has expired: refresh it or sign in again.'
            : err.message,
        );
      }
      throw new UpstreamUnavailableError('The user service (the keys that verify tokens)', err);
    }
  };
}

/**
 * The user service's JWKS, asked through our own sidecar (service invocation),
 * cached by jose and fetched again when a token names a key id it has not seen
 * (a rotation), at most every 30 s.
 */
export function remoteTokenVerifier(sidecar: DaprSidecar): VerifyAccessToken {
  const url = new URL(`${sidecar.baseUrl}/v1.0/invoke/user/method${JWKS_PATH}`);
  return tokenVerifier(
    createRemoteJWKSet(url, {
      headers: sidecar.authHeaders(),
      timeoutDuration: 5_000,
      cacheMaxAge: 5 * 60_000,
    }),
  );
}
