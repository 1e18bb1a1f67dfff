import type { WorkflowActivityContext } from '@dapr/dapr';
import type { Logger } from '../logger.ts';
import { inTraceOf, SpanKind } from './tracing.ts';

/**
 * Trace context through Dapr Workflow. The JS SDK (3.18, durabletask-js 1.0)
 * carries none: its protocol messages have no trace fields, so an activity
 * cannot learn the trace the sidecar's own workflow spans are in. So the
 * workflow carries the `traceparent` of the request that scheduled it in its
 * input and hands it to every activity in the activity's input
 * (`withTraceparent`); `tracedActivity` takes it out again and runs the
 * activity in a span of that trace. The input is fixed when the instance is
 * scheduled, so replays stay deterministic, and it survives restarts with the
 * workflow's history.
 */
const TRACEPARENT = 'traceparent';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An activity's argument with the trace added. `arg` may be a function of the
 * attempt (the saga's retry helper takes those); the result is then one too.
 */
export function withTraceparent<A>(arg: A, traceparent: string | undefined): A {
  if (!traceparent) return arg;
  if (typeof arg === 'function')
    return ((...args: unknown[]) =>
      withTraceparent((arg as (...a: unknown[]) => unknown)(...args), traceparent)) as A;
  return (isRecord(arg) ? { ...arg, [TRACEPARENT]: traceparent } : arg) as A;
}

// biome-ignore lint/suspicious/noExplicitAny: activities take and return any JSON value
type Activity = (ctx: WorkflowActivityContext, input: any) => Promise<unknown>;

/**
 * Wraps an activity: it runs in a span of the trace its input carries (no
 * span when it carries none: a trace is joined, never started here), without
 * the `traceparent` in the input it sees, and logs one line (with the trace
 * id) when it ends, as a request does.
 */
export function tracedActivity(name: string, activity: Activity, log: Logger): Activity {
  return async (ctx, input) => {
    let arg = input;
    let traceparent: string | undefined;
    if (isRecord(input) && typeof input[TRACEPARENT] === 'string') {
      const { [TRACEPARENT]: carried, ...rest } = input;
      traceparent = carried as string;
      arg = rest;
    }
    const instance = ctx.getWorkflowInstanceId();
    return inTraceOf(
      traceparent,
      `activity ${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'workflow.instance_id': instance, 'workflow.activity': name },
      },
      async () => {
        const started = performance.now();
        const fields = () => ({ activity: name, instance, ms: Math.round(performance.now() - started) });
        try {
          const result = await activity(ctx, arg);
          log.info(fields(), 'activity');
          return result;
        } catch (err) {
          log.warn({ ...fields(), err }, 'activity failed; the workflow retries or compensates');
          throw err;
        }
      },
    );
  };
}
