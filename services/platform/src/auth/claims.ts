import { z } from 'zod';

/**
 * What the user service signs and the gateway verifies: one place, so that
 * the two cannot drift. Access tokens are ES256 JWTs; their public keys are
 * the user service's JWKS.
 */
export const ROLES = ['customer', 'admin', 'ops'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const TOKEN_ISSUER = 'urn:shop-on-dapr:user';
export const TOKEN_AUDIENCE = 'urn:shop-on-dapr:api';
export const TOKEN_ALGORITHM = 'ES256';
/** Where the user service serves its public keys (RFC 8414's well-known prefix). */
export const JWKS_PATH = '/.well-known/jwks.json';

/** The claims of an access token beyond iss/aud/exp/iat, which the JWT library checks. */
export const accessClaimsSchema = z.object({
  sub: z.uuid(),
  role: roleSchema,
});
export type AccessClaims = z.infer<typeof accessClaimsSchema>;
