import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { AppError, ValidationError } from '../errors/app-error.ts';

/**
 * The `Idempotency-Key` request header (IETF draft-ietf-httpapi-idempotency-key-header),
 * with Stripe's rules: a key belongs to one user and one request. The service
 * stores the key with the request's fingerprint; a repeat with the same body
 * gets the first answer, with another body a 422, and a key is looked up only
 * among its own user's requests, so it never reveals another user's data.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const MIN_LENGTH = 8;
const MAX_LENGTH = 100;

/** The header's key, or `fallback` (a body field some endpoints also accept); validated. */
export function readIdempotencyKey(ctx: Context, options: { required: boolean; fallback?: string }) {
  const key = ctx.get(IDEMPOTENCY_KEY_HEADER) || options.fallback || undefined;
  if (key === undefined && !options.required) return undefined;
  if (!key || key.length < MIN_LENGTH || key.length > MAX_LENGTH) {
    throw new ValidationError([
      {
        field: `header.${IDEMPOTENCY_KEY_HEADER}`,
        message: `${options.required ? 'required: ' : ''}a key of ${MIN_LENGTH} to ${MAX_LENGTH} characters`,
      },
    ]);
  }
  return key;
}

/** JSON with object keys sorted at every level, so that key order does not change the fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of the canonical request (what the endpoint acts on, after validation and defaults). */
export const requestFingerprint = (request: unknown): string =>
  createHash('sha256').update(canonicalJson(request)).digest('hex');

/** The key was first used with another request: 422, as the draft and Stripe answer. */
export class IdempotencyKeyReusedError extends AppError {
  constructor(key: string) {
    super({
      slug: 'idempotency-key-reused',
      title: 'This Idempotency-Key was used for another request',
      status: 422,
      detail: `The key ${key} was first sent with another request body; use a new key for a new request.`,
      extensions: { idempotencyKey: key },
    });
  }
}
