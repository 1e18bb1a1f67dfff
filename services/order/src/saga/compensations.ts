import type { Step } from '../orders/order.model.ts';
import type { Activities } from './activities.ts';

interface OrderRef {
  orderId: string;
  userId: string;
}
const byOrder = (o: OrderRef) => ({ orderId: o.orderId });
const byOrderAndUser = (o: OrderRef) => ({ orderId: o.orderId, userId: o.userId });

/**
 * Each step that can be undone, the activity that undoes it and what it is
 * called with, in the steps' order (DESIGN.md). The saga puts a step's
 * compensation first on its list when the step ran (or may have); the
 * operators' re-drive runs them all, last step first. Every compensation is
 * idempotent and safe on a step that never happened (it leaves a tombstone
 * that refuses a late forward call).
 */
export const COMPENSATIONS = [
  { step: 'useCoupon', activity: 'restoreCoupon', arg: byOrder },
  { step: 'deductStock', activity: 'restoreStock', arg: byOrder },
  { step: 'startPayment', activity: 'cancelPayment', arg: byOrder },
  { step: 'deductPoints', activity: 'refundPoints', arg: byOrderAndUser },
] as const satisfies readonly { step: Step; activity: keyof Activities; arg: (o: OrderRef) => object }[];

export type UndoableStep = (typeof COMPENSATIONS)[number]['step'];

/** The activity that undoes `step` for this order, and its argument. */
export function compensationFor(a: Activities, step: UndoableStep, order: OrderRef) {
  const c = COMPENSATIONS.find((c) => c.step === step)!;
  return { activity: a[c.activity], arg: c.arg(order) };
}

/** Every compensation, last step first: what the re-drive runs. */
export const allCompensations = (a: Activities, order: OrderRef) =>
  [...COMPENSATIONS].reverse().map((c) => ({ step: c.step, ...compensationFor(a, c.step, order) }));
