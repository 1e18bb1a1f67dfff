import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { UnauthorizedError } from '../errors/app-error.ts';

/** What Kubernetes probes and Prometheus call on the app's port directly, without the sidecar's token. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const same = (given: string, expected: Buffer) => {
  const bytes = Buffer.from(given);
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
};

/**
 * Accepts a request only from the app's own sidecar: daprd sends the app API
 * token (its APP_API_TOKEN) in `dapr-api-token` on every call it makes to the
 * app — invocations, events, actor calls. Anything else that reaches the app's
 * port (another pod, a process on the host) is refused with 401, so the only
 * way in is through Dapr, where the access control policies apply.
 */
export function requireSidecarToken(token: string): Koa.Middleware {
  const expected = Buffer.from(token);
  return async (ctx, next) => {
    if (!OPEN_PATHS.has(ctx.path) && !same(ctx.get('dapr-api-token'), expected)) {
      throw new UnauthorizedError(
        'not-from-sidecar',
        'Not from the sidecar',
        'This port answers only the Dapr sidecar (dapr-api-token); call the service through Dapr or the gateway.',
      );
    }
    await next();
  };
}
