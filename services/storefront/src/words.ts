/**
 * What the page says about the saga and the coupon requests: plain words for
 * the states and refusals the services report. Pure: unit-tested.
 */

export interface OrderStep {
  step: string;
  state: StepState;
  detail: string | null;
  problemType: string | null;
  attempts: number;
}

export interface OrderItem {
  productId: string;
  productName: string;
  unitPrice: number;
  quantity: number;
}

export interface Order {
  orderId: string;
  userId: string;
  status: 'PENDING' | 'COMPLETED' | 'FAILED' | 'NEEDS_ATTENTION';
  totalAmount: number;
  discount: number;
  pointsUsed: number;
  paymentAmount: number;
  failureReason: string | null;
  items: OrderItem[];
  steps: OrderStep[];
  createdAt: string;
}

/** Each saga step as the progress bar names it, while it runs and once done. */
export const STEP_LABELS: Record<string, { running: string; done: string }> = {
  useCoupon: { running: 'Using your coupon…', done: 'Coupon used' },
  applyCoupon: { running: 'Applying the discount…', done: 'Discount applied' },
  deductStock: { running: 'Checking stock…', done: 'Stock reserved' },
  startPayment: { running: 'Starting the payment…', done: 'Payment authorised' },
  deductPoints: { running: 'Deducting points…', done: 'Points deducted' },
  completePayment: { running: 'Capturing the payment…', done: 'Payment captured' },
  completeOrder: { running: 'Completing the order…', done: 'Order complete' },
};

/** A step's state in words; its keys are the states the order service reports (StepState). */
export const STATE_WORDS = {
  pending: 'waiting',
  running: 'in progress',
  done: 'done',
  failed: 'failed',
  compensating: 'undoing',
  compensated: 'undone',
  skipped: 'not needed',
} as const satisfies Record<string, string>;

export type StepState = keyof typeof STATE_WORDS;

/** A step's label for its state. */
export function stepLabel(step: OrderStep): string {
  const labels = STEP_LABELS[step.step] ?? { running: step.step, done: step.step };
  return step.state === 'running' ? labels.running : labels.done.replace(/…$/, '');
}

const PROBLEM = 'urn:shop-on-dapr:problem:';

/** The refusals a customer can meet, said as a shop would say them. */
const REFUSALS: Record<string, string> = {
  'out-of-stock': 'Out of stock',
  'product-unavailable': 'That product is no longer on sale',
  'insufficient-points': 'Not enough points',
  'payment-declined': 'Your payment was declined',
  'payment-capture-failed': 'The payment could not be completed',
  'coupon-not-owned': 'That coupon is not yours',
  'coupon-already-used': 'That coupon was already used',
  'coupon-expired': 'That coupon has expired',
  'order-below-minimum': 'The order is below the coupon’s minimum',
};

/** Replaces product ids in a service's sentence with the names the order carries. */
function withProductNames(text: string, items: OrderItem[]): string {
  return items.reduce((t, item) => t.split(`Product ${item.productId}`).join(item.productName), text);
}

/**
 * Why an order failed, in words: the refused step's kind (from its problem
 * type) and the service's own sentence with product names in place of ids;
 * the order's recorded reason when no step says more.
 */
export function failureInWords(order: Order): string | undefined {
  if (order.status === 'PENDING' || order.status === 'COMPLETED') return undefined;
  const refused = order.steps.find((s) => s.state === 'failed');
  const kind = refused?.problemType?.startsWith(PROBLEM)
    ? REFUSALS[refused.problemType.slice(PROBLEM.length)]
    : undefined;
  const detail = refused?.detail ?? order.failureReason ?? 'The order could not be completed.';
  const sentence = withProductNames(detail, order.items);
  const undone = order.steps.filter((s) => s.state === 'compensated').map((s) => STEP_LABELS[s.step]?.done);
  const givenBack = undone.length > 0 ? ` Undone: ${undone.join(', ').toLowerCase()}.` : '';
  const head = kind ? `${kind}: ` : '';
  const attention =
    order.status === 'NEEDS_ATTENTION' ? ' Our staff has been alerted to finish undoing it.' : '';
  return `${head}${sentence}${givenBack}${attention}`;
}

export type CouponRequestStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'REJECTED';

export const REQUEST_WORDS: Record<CouponRequestStatus, string> = {
  QUEUED: 'In the queue',
  PROCESSING: 'Being decided',
  COMPLETED: 'Yours! The coupon is in your wallet',
  REJECTED: 'Not this time',
};

export const REJECT_WORDS: Record<string, string> = {
  SOLD_OUT: 'all coupons are gone',
  ALREADY_ISSUED: 'you already have this coupon',
  NOT_STARTED: 'the drop has not started yet',
  EXPIRED: 'the drop is over',
};

/** `mm:ss` (or `h:mm:ss`) until a moment; `0:00` once it has passed. */
export function countdown(until: Date, now: Date): string {
  const left = Math.max(0, Math.ceil((until.getTime() - now.getTime()) / 1000));
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export const won = (amount: number) => `₩${amount.toLocaleString('en-US')}`;

/** The bill in one line: what was paid only once it was; a failed order charged nothing (all undone). */
export function billInWords(order: Order): string {
  const items = order.items.map((i) => `${i.productName} × ${i.quantity}`).join(', ');
  const off = [
    order.discount ? `coupon −${won(order.discount)}` : '',
    order.pointsUsed ? `points −${won(order.pointsUsed)}` : '',
  ].filter(Boolean);
  const payment = {
    PENDING: `to pay ${won(order.paymentAmount)}`,
    COMPLETED: `paid ${won(order.paymentAmount)}`,
    FAILED: 'nothing charged',
    NEEDS_ATTENTION: 'the payment is being sorted out by our team',
  }[order.status];
  return [`${items} — total ${won(order.totalAmount)}`, ...off, payment].join(', ');
}
