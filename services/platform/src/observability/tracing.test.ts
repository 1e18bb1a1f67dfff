import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { requestContext } from '../http/request-context.ts';
import { currentTraceId, currentTraceparent, initTracing } from './tracing.ts';
import { tracedActivity, withTraceparent } from './workflow-trace.ts';

const exporter = new InMemorySpanExporter();
let tracing: { shutdown: () => Promise<void> };
beforeAll(() => {
  tracing = initTracing({ serviceName: 'test', samplingRate: 1, exporter });
});
afterAll(() => tracing.shutdown());
beforeEach(() => exporter.reset());

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const incoming = `00-${TRACE}-b7ad6b7169203331-01`;
const silent = pino({ level: 'silent' });

describe("a request in the caller's trace", () => {
  test('When a request comes with a traceparent, then its server span is in that trace, named by route, and what it runs sees the trace', async () => {
    const app = new Koa();
    app.use(requestContext(silent));
    let seen: { traceId?: string; traceparent?: string } = {};
    app.use(async (ctx) => {
      (ctx as { _matchedRoute?: string })._matchedRoute = '/orders/:id';
      seen = { traceId: currentTraceId(), traceparent: currentTraceparent() };
      ctx.body = {};
    });
    await request(app.callback()).get('/orders/42').set('traceparent', incoming).expect(200);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('GET /orders/:id');
    expect(span?.spanContext().traceId).toBe(TRACE);
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(seen.traceId).toBe(TRACE);
    // What the request hands on (to the sidecar, the outbox, a workflow) is its own span.
    expect(seen.traceparent).toBe(`00-${TRACE}-${span?.spanContext().spanId}-01`);
  });

  test('When a probe is polled, then no span is made', async () => {
    const app = new Koa();
    app.use(requestContext(silent));
    app.use((ctx) => {
      ctx.body = 'ok';
    });
    await request(app.callback()).get('/healthz').set('traceparent', incoming).expect(200);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe("saga activities in the order's trace", () => {
  const ctx = { getWorkflowInstanceId: () => 'order-1', getWorkflowActivityId: () => 3 } as never;

  test("When an activity's input carries a traceparent, then it runs in a span of that trace and sees its input without it", async () => {
    let got: unknown;
    let traceId: string | undefined;
    const activity = tracedActivity(
      'deductStock',
      async (_, input) => {
        got = input;
        traceId = currentTraceId();
        return { ok: true };
      },
      silent,
    );
    await activity(ctx, withTraceparent({ orderId: 'order-1' }, incoming));
    expect(got).toEqual({ orderId: 'order-1' });
    expect(traceId).toBe(TRACE);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('activity deductStock');
    expect(span?.attributes).toMatchObject({ 'workflow.instance_id': 'order-1' });
  });

  test("When an activity's input carries no trace, then it runs as it is and no span is started", async () => {
    const activity = tracedActivity('markStep', async (_, input) => input, silent);
    expect(await activity(ctx, { orderId: 'order-1' })).toEqual({ orderId: 'order-1' });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  test('When the argument is a function of the attempt, then what it returns carries the trace', () => {
    const arg = withTraceparent((attempt: number) => ({ attempt }), incoming) as (n: number) => unknown;
    expect(arg(2)).toEqual({ attempt: 2, traceparent: incoming });
  });

  test('When an activity throws, then its span is marked failed and the error goes on to the workflow', async () => {
    const activity = tracedActivity(
      'startPayment',
      async () => {
        throw new Error('sidecar away');
      },
      silent,
    );
    await expect(activity(ctx, withTraceparent({ orderId: 'o' }, incoming))).rejects.toThrow('sidecar away');
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(2);
  });
});
