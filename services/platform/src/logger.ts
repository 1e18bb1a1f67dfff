import pino, { type Logger } from 'pino';
import { currentTraceId } from './observability/tracing.ts';

export type { Logger };

export function createLogger(appId: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service: appId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Whatever runs in a trace (a request, a saga activity, an event delivery, an
    // outbox publish) logs its trace id, so a line leads to its trace and back.
    mixin: () => {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
  });
}

/**
 * The W3C trace id from a `traceparent` header (`00-<trace-id>-<span-id>-<flags>`),
 * which Dapr propagates on every invocation and pub/sub delivery.
 */
export function traceIdFrom(traceparent: string | undefined): string | undefined {
  const parts = traceparent?.split('-');
  return parts?.length === 4 && parts[1]?.length === 32 ? parts[1] : undefined;
}
