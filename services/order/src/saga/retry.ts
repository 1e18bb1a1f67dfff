import type { Task, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';

export type Gen<T> = AsyncGenerator<Task<unknown>, T, unknown>;
export type Exhausted = { ok: false; reason: string; exhausted: true };

/** For what must happen whatever it takes: the pivot, the steps after it, and the saga's own records. */
export const UNTIL_DONE = Number.POSITIVE_INFINITY;
export const MAX_BACKOFF_S = 30;

/** An activity as a workflow calls it: its input's type is what the call must give. */
export type ActivityOf<I, T> = (ctx: WorkflowActivityContext, input: I) => Promise<T>;
/** An activity's input, or a function of the attempt (1, 2, …) that makes it. */
export type InputOf<I> = I | ((attempt: number) => I);

/**
 * Calls an activity from a workflow; retries thrown (transient) errors with a
 * durable timer between attempts (1, 2, 4… s, at most 30 s apart: the JS SDK
 * has no activity retry policy), up to `attempts`. `arg` may be a function of
 * the attempt (1, 2, …). With `retryRefused`, a step's refusal (`{ ok: false }`)
 * is retried the same way (the re-drive's compensations). Deterministic, as a
 * workflow must be.
 */
export async function* withRetry<I, T>(
  ctx: WorkflowContext,
  activity: ActivityOf<I, T>,
  arg: InputOf<I>,
  attempts: number,
  options: { retryRefused?: boolean } = {},
): Gen<T | Exhausted> {
  let delay = 1;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    try {
      const value = typeof arg === 'function' ? (arg as (attempt: number) => I)(attempt) : arg;
      // The SDK types an activity's input and output as any: the cast is where ours meet it.
      const result = (yield ctx.callActivity(activity as never, value as never)) as T;
      const refusal = result as { ok?: boolean; reason?: string } | null;
      if (!(options.retryRefused && refusal?.ok === false)) return result;
      reason = refusal.reason ?? 'refused';
    } catch (err) {
      reason = (err as Error).message;
    }
    if (attempt >= attempts)
      return { ok: false, reason: `still failing after ${attempts} attempts: ${reason}`, exhausted: true };
    yield ctx.createTimer(delay);
    delay = Math.min(delay * 2, MAX_BACKOFF_S);
  }
}
