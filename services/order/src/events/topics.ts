/** Topic names; they match components/subscriptions.yaml and the chart. */
export const ORDER_EVENTS = 'order-events';

export const OrderEventType = {
  OrderCompleted: 'OrderCompleted',
  OrderFailed: 'OrderFailed',
} as const;

/** The Dapr app ids the saga calls. */
export const AppId = { user: 'user', product: 'product', coupon: 'coupon', payment: 'payment' } as const;
