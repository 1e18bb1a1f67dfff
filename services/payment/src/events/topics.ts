/** Topic names; they match components/subscriptions.yaml and the chart. */
export const PAYMENT_EVENTS = 'payment-events';

export const PaymentEventType = {
  PaymentCompleted: 'PaymentCompleted',
  PaymentCancelled: 'PaymentCancelled',
} as const;
