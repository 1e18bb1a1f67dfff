import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(appId: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service: appId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
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
