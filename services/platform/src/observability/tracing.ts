import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export { SpanKind, SpanStatusCode };

export interface TracingOptions {
  serviceName: string;
  /** Zipkin's span intake (`http://host:9411/api/v2/spans`); unset: no span leaves the process. */
  zipkinUrl?: string;
  /**
   * Share of the traces that start here that are recorded (0 to 1). A trace
   * that comes in (a traceparent from a sidecar) keeps the caller's decision,
   * so the sidecars' `tracing.samplingRate` decides for most of them.
   */
  samplingRate: number;
  /** Tests: export here instead, at once. */
  exporter?: SpanExporter;
}

const tracer = () => trace.getTracer('shop-on-dapr');
let provider: TracerProvider | undefined;
let contextReady = false;

/**
 * Context and propagation always (so a request's trace id reaches its logs and
 * the calls it makes even with tracing off); a tracer provider that records
 * and exports spans only when there is somewhere to send them.
 */
export function initTracing(options: TracingOptions): { shutdown: () => Promise<void> } {
  if (!contextReady) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    contextReady = true;
  }
  const exporter =
    options.exporter ?? (options.zipkinUrl ? new ZipkinExporter({ url: options.zipkinUrl }) : undefined);
  if (!exporter) return { shutdown: async () => undefined };
  const processor: SpanProcessor = options.exporter
    ? new SimpleSpanProcessor({ exporter })
    : // Sent every second in batches: spans reach the trace view while the order is still fresh.
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192 });
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRate) }),
    spanProcessors: [processor],
  });
  trace.setGlobalTracerProvider(provider);
  const current = provider;
  return {
    shutdown: async () => {
      await current.shutdown().catch(() => undefined);
      trace.disable();
      provider = undefined;
    },
  };
}

/** The context a W3C `traceparent` describes (the active one when there is none). */
export function contextFrom(traceparent: string | undefined, base: Context = context.active()): Context {
  if (!traceparent) return base;
  return propagation.extract(base, { traceparent });
}

/** The `traceparent` of the active span, to hand the trace on (a header, an event, a workflow input). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The active trace id, for log lines; undefined outside any trace. */
export function currentTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context by default. */
  parent?: Context;
}

/**
 * Runs `fn` in a new span (child of `options.parent` or of the active span),
 * ended when `fn` settles; a thrown error marks it failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Like `inSpan`, but only inside a trace that exists (`traceparent` given):
 * work that has no trace of its own (an event from before tracing, a saga run
 * by the reconciler) runs without a span rather than starting one per call.
 */
export function inTraceOf<T>(
  traceparent: string | undefined,
  name: string,
  options: Omit<SpanOptions, 'parent'>,
  fn: () => Promise<T>,
): Promise<T> {
  if (!traceparent) return fn();
  return inSpan(name, { ...options, parent: contextFrom(traceparent) }, fn);
}
