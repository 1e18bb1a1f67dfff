import type { Step } from '../orders/order.model.ts';
import type { Activities, StepResult } from './activities.ts';
import type { ActivityOf } from './retry.ts';

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
/**
 * A compensation bound to its argument, typed together: the caller is handed
 * the activity and what it takes (`call((activity, arg) => …)`), whatever the
 * activity's own input type is.
 */
export type CompensationCall = <R>(use: <I>(activity: ActivityOf<I, StepResult>, arg: I) => R) => R;
const bind =
  <I>(activity: ActivityOf<I, StepResult>, arg: I): CompensationCall =>
  (use) =>
    use(activity, arg);

export const COMPENSATIONS = [
  { step: 'useCoupon', undo: (a: Activities, o: OrderRef) => bind(a.restoreCoupon, byOrder(o)) },
  { step: 'deductStock', undo: (a: Activities, o: OrderRef) => bind(a.restoreStock, byOrder(o)) },
  { step: 'startPayment', undo: (a: Activities, o: OrderRef) => bind(a.cancelPayment, byOrder(o)) },
  { step: 'deductPoints', undo: (a: Activities, o: OrderRef) => bind(a.refundPoints, byOrderAndUser(o)) },
] as const satisfies readonly { step: Step; undo: (a: Activities, o: OrderRef) => CompensationCall }[];

export type UndoableStep = (typeof COMPENSATIONS)[number]['step'];

/** The activity that undoes `step` for this order, bound to its argument. */
export function compensationFor(a: Activities, step: UndoableStep, order: OrderRef): CompensationCall {
  return COMPENSATIONS.find((c) => c.step === step)!.undo(a, order);
}

/** Every compensation, last step first: what the re-drive runs. */
export const allCompensations = (a: Activities, order: OrderRef) =>
  [...COMPENSATIONS].reverse().map((c) => ({ step: c.step, call: c.undo(a, order) }));
