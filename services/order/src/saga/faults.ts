import { AsyncLocalStorage } from 'node:async_hooks';
import type { TWorkflow, WorkflowContext } from '@dapr/dapr';
import type { DaprSidecar } from '@shop/platform';
import type { Context } from 'koa';
import { AppId } from '../events/topics.ts';
import type { Step } from '../orders/order.model.ts';
import type { Gen } from './retry.ts';
import type { Activity, WorkflowRegistration } from './workflow-runtime.ts';

/**
 * Faults a test or a local run can inject into one order's saga (or a
 * top-up's: the gateway's and `no-workflow`), honoured only when the service
 * runs with FAKE_GATEWAY_FAULTS=true:
 * - `x-fake-gateway`: passed on to the payment service's fake gateway;
 * - `x-saga-fault: complete-order:<n>`: the first n attempts of completeOrder
 *   fail as a transient error would (its database away after the capture);
 * - `x-saga-fault: no-workflow`: the order is committed but its workflow is not
 *   scheduled, as if the service died in between (the reconciler's case).
 * Several may be given, separated by commas.
 *
 * The saga never sees them: they ride beside a workflow's input (`faults`),
 * and `injectFaults` — woven in only when the service runs with faults on —
 * hands them to each activity call and acts on them around the activities.
 */
export interface SagaFaults {
  paymentFault?: string;
  completeOrderFailures?: number;
}

/** A workflow's input as scheduled with faults asked for. */
export type WithFaults<I> = I & { faults?: SagaFaults };

export function withFaults<I extends object>(input: I, faults: SagaFaults | undefined): WithFaults<I> {
  return faults && Object.keys(faults).length > 0 ? { ...input, faults } : (input as WithFaults<I>);
}

export interface RequestFaults {
  saga: SagaFaults;
  skipSchedule: boolean;
}

export function requestFaultsFrom(ctx: Context): RequestFaults {
  const paymentFault = ctx.get('x-fake-gateway') || undefined;
  const asked = ctx
    .get('x-saga-fault')
    .split(',')
    .map((f) => f.trim());
  const completeOrder = asked.map((f) => /^complete-order:(\d{1,2})$/.exec(f)).find(Boolean);
  return {
    saga: {
      ...(paymentFault ? { paymentFault } : {}),
      ...(completeOrder ? { completeOrderFailures: Number(completeOrder[1]) } : {}),
    },
    skipSchedule: asked.includes('no-workflow'),
  };
}

/** What an activity call carries: the order's faults and which call of that activity it is. */
interface CallFaults extends SagaFaults {
  activity: string;
  attempt: number;
}

const FAULTS = 'faults';
const current = new AsyncLocalStorage<CallFaults>();

/**
 * A workflow whose activity calls carry its input's faults, each with the
 * number of that call of that activity (counted in the run, so a replay counts
 * the same: deterministic).
 */
function faultyWorkflow(workflow: TWorkflow): TWorkflow {
  const run = workflow as unknown as (ctx: WorkflowContext, input: unknown) => Gen<unknown>;
  return async function* (ctx: WorkflowContext, input: WithFaults<Record<string, unknown>>): Gen<unknown> {
    const { [FAULTS]: faults, ...rest } = input ?? {};
    if (!faults) return yield* run(ctx, input);
    const calls = new Map<string, number>();
    const carrying = Object.create(ctx, {
      callActivity: {
        value: (activity: string | { name: string }, arg: Record<string, unknown>) => {
          const name = typeof activity === 'string' ? activity : activity.name;
          const attempt = (calls.get(name) ?? 0) + 1;
          calls.set(name, attempt);
          const call: CallFaults = { ...faults, activity: name, attempt };
          return ctx.callActivity(activity as never, { ...arg, [FAULTS]: call } as never);
        },
      },
    }) as WorkflowContext;
    return yield* run(carrying, rest);
  } as unknown as TWorkflow;
}

/** An activity run with the faults its call carries in scope (read by the sidecar and the steps below). */
function faultyActivity(activity: Activity): Activity {
  return (ctx, input) => {
    if (!(input && typeof input === 'object' && FAULTS in input)) return activity(ctx, input);
    const { [FAULTS]: faults, ...rest } = input as { [FAULTS]: CallFaults };
    return current.run(faults, () => activity(ctx, rest));
  };
}

/**
 * The test faults woven into the saga's parts: its workflows and activities
 * (the faults carried to each activity call), the sidecar its activities call
 * through (the payment fault sent to the fake gateway), and a check before
 * each step (completeOrder failing its first attempts). Used only with
 * FAKE_GATEWAY_FAULTS=true; without it none of this is in the path.
 */
export const injectFaults = {
  registration: (r: WorkflowRegistration): WorkflowRegistration => ({
    workflows: Object.fromEntries(Object.entries(r.workflows).map(([n, w]) => [n, faultyWorkflow(w)])),
    activities: Object.fromEntries(Object.entries(r.activities).map(([n, a]) => [n, faultyActivity(a)])),
  }),

  sidecar: (sidecar: DaprSidecar): DaprSidecar =>
    Object.create(sidecar, {
      invoke: {
        value: (...[appId, method, httpMethod, body, call]: Parameters<DaprSidecar['invoke']>) => {
          const fault = current.getStore()?.paymentFault;
          const headers = appId === AppId.payment && fault ? { 'x-fake-gateway': fault } : undefined;
          return sidecar.invoke(appId, method, httpMethod, body, {
            ...call,
            headers: { ...call?.headers, ...headers },
          });
        },
      },
    }),

  /** completeOrder's first `completeOrderFailures` attempts fail (after the capture, which is recorded). */
  beforeStep: (step: Step): void => {
    const faults = current.getStore();
    if (
      step === 'completeOrder' &&
      faults?.activity === 'captureAndComplete' &&
      faults.attempt <= (faults.completeOrderFailures ?? 0)
    ) {
      throw new Error('injected fault: completeOrder failed (x-saga-fault)');
    }
  },
};
