import type { Context } from 'koa';

/**
 * Faults a test or a local run can inject into one order's saga, honoured only
 * when the service runs with FAKE_GATEWAY_FAULTS=true:
 * - `x-fake-gateway`: passed on to the payment service's fake gateway;
 * - `x-saga-fault: complete-order:<n>`: the first n attempts of completeOrder
 *   fail as a transient error would (its database away after the capture).
 */
export interface SagaFaults {
  paymentFault?: string;
  completeOrderFailures?: number;
}

export function sagaFaultsFrom(ctx: Context): SagaFaults {
  const paymentFault = ctx.get('x-fake-gateway') || undefined;
  const completeOrder = /^complete-order:(\d{1,2})$/.exec(ctx.get('x-saga-fault'));
  return {
    ...(paymentFault ? { paymentFault } : {}),
    ...(completeOrder ? { completeOrderFailures: Number(completeOrder[1]) } : {}),
  };
}
