import type { Context } from 'koa';

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
 */
export interface SagaFaults {
  paymentFault?: string;
  completeOrderFailures?: number;
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
