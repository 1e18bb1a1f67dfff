import type { Activities } from './activities.ts';
import type { PlaceOrderInput } from './place-order.workflow.ts';
import { namedActivities } from './workflow-driver.ts';

/** The order saga's activities by name, for the workflow tests (workflow-driver.ts runs them by name). */
export const SAGA_ACTIVITY_NAMES = [
  'markStep',
  'useCoupon',
  'restoreCoupon',
  'deductStock',
  'restoreStock',
  'startPayment',
  'paymentStatus',
  'cancelPayment',
  'deductPoints',
  'refundPoints',
  'captureAndComplete',
  'endOrder',
] as const satisfies readonly (keyof Activities)[];
export type SagaActivityName = (typeof SAGA_ACTIVITY_NAMES)[number];

export const sagaActivities = namedActivities<Activities>(SAGA_ACTIVITY_NAMES);

/** An order of one line, no coupon and no points: the workflow tests' starting point. */
export const sampleOrder: PlaceOrderInput = {
  orderId: 'o-1',
  userId: 'u-1',
  items: [{ productId: 'p-1', quantity: 1 }],
  couponId: null,
  pointsToUse: 0,
  totalAmount: 10_000,
};
