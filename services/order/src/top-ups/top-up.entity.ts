import { defineEntity, p } from '@mikro-orm/core';

export type TopUpStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/** A customer's paid top-up of points (db/migrations.ts, TopUps). */
export const TopUpEntity = defineEntity({
  name: 'TopUp',
  tableName: 'top_ups',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    /** Points bought, paid for 1 KRW each. */
    amount: p.bigint('number'),
    status: p.string().$type<TopUpStatus>(),
    failureReason: p.string().nullable().fieldName('failure_reason'),
    idempotencyKey: p.string().nullable().fieldName('idempotency_key'),
    requestHash: p.string().nullable().fieldName('request_hash'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});
