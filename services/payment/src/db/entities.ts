import { defineEntity, p } from '@mikro-orm/core';

/** The table of migrations.ts as MikroORM sees it; the columns' names are the migrations'. */

/**
 * PENDING: recorded, the gateway is being asked (or its answer was lost: a
 * repeated start asks again); STARTED: authorised; FAILED: declined.
 */
export const PaymentStatus = {
  PENDING: 'PENDING',
  STARTED: 'STARTED',
  COMPLETED: 'COMPLETED',
  CANCELLED: 'CANCELLED',
  FAILED: 'FAILED',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

export const PaymentEntity = defineEntity({
  name: 'Payment',
  tableName: 'payments',
  properties: {
    orderId: p.uuid().primary().fieldName('order_id'),
    amount: p.bigint('number'),
    status: p.string().$type<PaymentStatus>(),
    failureReason: p.string().nullable().fieldName('failure_reason'),
    createdAt: p.datetime().fieldName('created_at'),
    updatedAt: p.datetime().fieldName('updated_at'),
  },
});
