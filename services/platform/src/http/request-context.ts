import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { type Logger, traceIdFrom } from '../logger.ts';
import { httpRequestDuration } from '../observability/metrics.ts';
import {
  contextFrom,
  currentTraceparent,
  inSpan,
  SpanKind,
  SpanStatusCode,
} from '../observability/tracing.ts';

export interface RequestState {
  requestId: string;
  traceId?: string;
  /** This request's own span, as a `traceparent`: what it hands on. */
  traceparent?: string;
  log: Logger;
  /**
   * Set by a high-volume route (a coupon drop's POST, a thousand a second):
   * its successful requests are logged at debug instead of info, so that the
   * log does not cost more than the request. Failures are logged as usual.
   */
  quiet?: boolean;
}

/** Polled every few seconds by probes and Prometheus: no span, no log line, no latency series. */
const isHousekeeping = (path: string) =>
  path.endsWith('healthz') || path === '/readyz' || path === '/metrics';

/**
 * Gives every request an id (kept from `x-request-id` if the caller sent
 * one) and a server span in the trace Dapr propagates in `traceparent` (the
 * logger adds its trace id to every line logged while it runs, and the
 * sidecar calls it makes carry it on); logs one line when the request ends
 * and records its latency under its route's pattern.
 */
export function requestContext(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (isHousekeeping(ctx.path)) {
      ctx.state.log = log;
      return next();
    }
    const started = performance.now();
    const requestId = ctx.get('x-request-id') || randomUUID();
    ctx.set('x-request-id', requestId);
    const parent = contextFrom(ctx.get('traceparent') || undefined);
    await inSpan(
      `${ctx.method} ${ctx.path}`,
      {
        kind: SpanKind.SERVER,
        parent,
        attributes: { 'http.request.method': ctx.method, 'url.path': ctx.path },
      },
      async (span) => {
        const traceparent = currentTraceparent();
        const state: RequestState = {
          requestId,
          traceparent,
          traceId: traceIdFrom(traceparent),
          log: log.child({ requestId }),
        };
        Object.assign(ctx.state, state);
        try {
          await next();
        } finally {
          // The route's pattern (`/orders/:id`), not the path: one series per endpoint.
          const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
          const status = String(ctx.status);
          span.updateName(`${ctx.method} ${route === 'unmatched' ? ctx.path : route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': ctx.status });
          if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          const ms = performance.now() - started;
          httpRequestDuration.observe({ method: ctx.method, route, status }, ms / 1000);
          const quiet = (ctx.state as RequestState).quiet && ctx.status < 400;
          state.log[quiet ? 'debug' : 'info'](
            { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms) },
            'request',
          );
        }
      },
    );
  };
}
