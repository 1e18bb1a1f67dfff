/**
 * Drives a workflow generator without the platform, for unit tests: a fake
 * context runs scripted activities by name, so a test states which activity
 * answers what and checks which calls follow. Timers pass at once (counted).
 */

// biome-ignore lint/suspicious/noExplicitAny: scripted answers and activity arguments are any JSON
export type Answer = unknown | ((arg: any, call: number) => unknown);

export interface DrivenRun {
  // biome-ignore lint/suspicious/noExplicitAny: the workflow's output, read by path
  output: any;
  /** Every activity called, in order. */
  // biome-ignore lint/suspicious/noExplicitAny: activity arguments, read by path
  calls: { name: string; arg: any }[];
  timers: number;
}

/** Stand-ins for a workflow's activities: it only passes them to callActivity, which knows them by name. */
export function namedActivities<T>(names: readonly string[]): T {
  return Object.fromEntries(
    names.map((n) => {
      const fn = async () => undefined;
      Object.defineProperty(fn, 'name', { value: n });
      return [n, fn];
    }),
  ) as T;
}

export const ok = (value: unknown = null) => ({ ok: true, value });
export const refused = (reason: string) => ({ ok: false, reason });
export const transient = () => {
  throw new Error('connect ECONNREFUSED');
};
/** Fails (thrown, like a transient error) the first `n` calls, then answers `then`. */
export const failFirst = (n: number, then: unknown) => (_: unknown, call: number) =>
  call <= n ? transient() : then;

export async function driveWorkflow(
  workflow: unknown,
  input: unknown,
  script: Record<string, Answer>,
): Promise<DrivenRun> {
  const ctx = {
    callActivity: (fn: { name: string }, arg: unknown) => ({ kind: 'activity', name: fn.name, arg }),
    createTimer: (seconds: number) => ({ kind: 'timer', seconds }),
  };
  // biome-ignore lint/suspicious/noExplicitAny: the tasks of the fake context above
  const gen = (workflow as (c: typeof ctx, i: unknown) => AsyncGenerator<any, unknown, unknown>)(ctx, input);
  const run: DrivenRun = { output: undefined, calls: [], timers: 0 };
  const counts = new Map<string, number>();
  let next = await gen.next();
  for (let guard = 0; !next.done; guard++) {
    if (guard > 10_000) throw new Error('the workflow does not end');
    const task = next.value;
    if (task.kind === 'timer') {
      run.timers++;
      next = await gen.next(undefined);
      continue;
    }
    const name = task.name as string;
    const call = (counts.get(name) ?? 0) + 1;
    counts.set(name, call);
    run.calls.push({ name, arg: task.arg });
    let answer: unknown;
    try {
      const a = name in script ? script[name] : ok();
      answer = typeof a === 'function' ? (a as (arg: unknown, call: number) => unknown)(task.arg, call) : a;
    } catch (err) {
      next = await gen.throw(err);
      continue;
    }
    next = await gen.next(answer);
  }
  run.output = next.value;
  return run;
}
