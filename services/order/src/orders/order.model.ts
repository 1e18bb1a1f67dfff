/** The order as the service's routes, its saga and its repository speak of it. */

/** The saga's steps, in the order of DESIGN.md (cheap, self-restorable steps first; payment last). */
export const STEPS = [
  'useCoupon',
  'applyCoupon',
  'deductStock',
  'startPayment',
  'deductPoints',
  'completePayment',
  'completeOrder',
] as const;
export type Step = (typeof STEPS)[number];
export type StepState =
  | 'pending'
  | 'running'
  | 'done'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'skipped';
export type OrderStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'NEEDS_ATTENTION';

export interface OrderLine {
  productId: string;
  quantity: number;
}

export interface NewOrder {
  userId: string;
  items: OrderLine[];
  /** The items are the buyer's cart's (product service), read when the order is placed. */
  fromCart?: boolean;
  couponId?: string;
  pointsToUse: number;
}

export interface OrderView {
  orderId: string;
  userId: string;
  status: OrderStatus;
  couponId: string | null;
  /** Asked for by the client. */
  pointsToUse: number;
  totalAmount: number;
  discount: number;
  /** Taken by the saga: at most what was left after the discount. */
  pointsUsed: number;
  /** totalAmount - discount - pointsUsed. */
  paymentAmount: number;
  failureReason: string | null;
  /** The saga instance driving the order: its id for the first run, another after a re-run. */
  workflowId: string;
  /** Placed from the buyer's cart. */
  fromCart: boolean;
  items: { productId: string; productName: string; unitPrice: number; quantity: number }[];
  /**
   * `attempts`: how many times the step was started (more than 1: it was retried).
   * `problemType`: when a service refused the step, its RFC 9457 problem type
   * (e.g. `urn:shop-on-dapr:problem:out-of-stock`), so that a client can say
   * what went wrong in its own words; `detail` is the service's own sentence.
   */
  steps: OrderStepView[];
  createdAt: string;
  updatedAt: string;
}

export interface OrderStepView {
  step: Step;
  state: StepState;
  detail: string | null;
  problemType: string | null;
  attempts: number;
  updatedAt: string;
}

/**
 * What the saga's later steps accept (the product service's largest deduction
 * per product, the payment and coupon services' largest amount): an order past
 * them is refused at once rather than failing at that step after others ran.
 */
export const MAX_QUANTITY_PER_PRODUCT = 10_000;
export const MAX_ORDER_TOTAL = 1_000_000_000;
