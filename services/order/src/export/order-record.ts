import type { OrderView } from '../orders/order.model.ts';

/** What the data platform receives for a completed order: the order's own rows, denormalised. */
export interface OrderRecord {
  orderId: string;
  userId: string;
  status: 'COMPLETED';
  couponId: string | null;
  totalAmount: number;
  discount: number;
  pointsUsed: number;
  paymentAmount: number;
  items: { productId: string; productName: string; unitPrice: number; quantity: number }[];
  placedAt: string;
  completedAt: string;
}

export const toRecord = (order: OrderView): OrderRecord => ({
  orderId: order.orderId,
  userId: order.userId,
  status: 'COMPLETED',
  couponId: order.couponId,
  totalAmount: order.totalAmount,
  discount: order.discount,
  pointsUsed: order.pointsUsed,
  paymentAmount: order.paymentAmount,
  items: order.items,
  placedAt: order.createdAt,
  completedAt: order.updatedAt,
});
