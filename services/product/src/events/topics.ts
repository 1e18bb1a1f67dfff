/** Topic names; they match components/subscriptions.yaml and the chart. */
export const PRODUCT_EVENTS = 'product-events';
export const ORDER_EVENTS = 'order-events';

export const ProductEventType = {
  ProductCreated: 'ProductCreated',
  ProductUpdated: 'ProductUpdated',
  StockDeducted: 'StockDeducted',
  StockRestored: 'StockRestored',
} as const;
