import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { type Logger, traceIdFrom } from '../logger.ts';

export interface RequestState {
  requestId: string;
  traceId?: string;
  traceparent?: string;
  log: Logger;
  /**
   * Set by a high-volume route (a coupon drop's POST, a thousand a second):
   * its successful requests are logged at debug instead of info, so that the
   * log does not cost more than the request. Failures are logged as usual.
   */
  quiet?: boolean;
}

/**
 * Gives every request an id (kept from `x-request-id` if the caller sent
 * one), the trace id Dapr propagates in `traceparent`, and a child logger
 * carrying both; logs one line when the request ends.
 */
export function requestContext(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const requestId = ctx.get('x-request-id') || randomUUID();
    const traceparent = ctx.get('traceparent') || undefined;
    const traceId = traceIdFrom(traceparent);
    const state: RequestState = {
      requestId,
      traceparent,
      traceId,
      log: log.child({ requestId, ...(traceId ? { traceId } : {}) }),
    };
    Object.assign(ctx.state, state);
    ctx.set('x-request-id', requestId);
    try {
      await next();
    } finally {
      // Probes are polled every few seconds; they would drown the log.
      if (!ctx.path.endsWith('healthz') && ctx.path !== '/readyz') {
        const quiet = (ctx.state as RequestState).quiet && ctx.status < 400;
        state.log[quiet ? 'debug' : 'info'](
          {
            method: ctx.method,
            path: ctx.path,
            status: ctx.status,
            ms: Math.round(performance.now() - started),
          },
          'request',
        );
      }
    }
  };
}
