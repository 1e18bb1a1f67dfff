import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Logger } from '@shop/platform';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export interface SigningKey {
  privateKey: KeyObject;
  /** The key id: the public key's RFC 7638 thumbprint, so every replica with the key names it alike. */
  kid: string;
  /** What `/.well-known/jwks.json` serves: this key, and any older public keys still trusted. */
  jwks: { keys: JWK[] };
}

const publicJwk = async (publicKey: KeyObject): Promise<JWK> => {
  const jwk = await exportJWK(publicKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' };
};

/**
 * The P-256 key that signs access tokens. Configured (`JWT_PRIVATE_KEY`, a PEM in
 * PKCS#8 or SEC1 form: the local runner keeps one in `.shop/`, the chart in a
 * Secret), so that every replica signs with the same key and tokens outlive a
 * restart. Without it a key is generated at start-up, good for one process only:
 * its tokens die with it and another replica would not know them, so it warns.
 * `JWT_PREVIOUS_PUBLIC_KEYS` (PEMs, one after the other) keeps old keys in the
 * JWKS during a rotation, until the tokens they signed have expired.
 */
export async function loadSigningKey(
  config: { JWT_PRIVATE_KEY?: string | undefined; JWT_PREVIOUS_PUBLIC_KEYS?: string | undefined },
  log: Logger,
): Promise<SigningKey> {
  let privateKey: KeyObject;
  if (config.JWT_PRIVATE_KEY) {
    privateKey = createPrivateKey(config.JWT_PRIVATE_KEY);
    if (
      privateKey.asymmetricKeyType !== 'ec' ||
      privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    ) {
      throw new Error('JWT_PRIVATE_KEY must be an EC P-256 private key (ES256)');
    }
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    log.warn('JWT_PRIVATE_KEY is not set: signing with a key generated now (tokens end with this process)');
  }
  const current = await publicJwk(createPublicKey(privateKey));
  const previous = await Promise.all(
    (config.JWT_PREVIOUS_PUBLIC_KEYS?.match(/-----BEGIN [^-]+-----[^-]+-----END [^-]+-----/g) ?? []).map(
      (pem) => publicJwk(createPublicKey(pem)),
    ),
  );
  return { privateKey, kid: current.kid!, jwks: { keys: [current, ...previous] } };
}
