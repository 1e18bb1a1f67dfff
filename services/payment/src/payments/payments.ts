import { type InferEntity, LockMode } from '@mikro-orm/core';
import { addToOutbox, type EntityManager, NotFoundError, newEvent } from '@shop/platform';
import { PAYMENT_EVENTS, PaymentEventType } from '../events/topics.ts';
import type { FakeGateway, GatewayFault } from './fake-gateway.ts';
import { PaymentEntity, PaymentStatus } from './payment.entity.ts';
import {
  IllegalPaymentTransitionError,
  PaymentAmountMismatchError,
  PaymentCaptureFailedError,
  PaymentDeclinedError,
} from './payment.errors.ts';

export interface PaymentRecord {
  orderId: string;
  amount: number;
  status: PaymentStatus;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

type Payment = InferEntity<typeof PaymentEntity>;

const toRecord = (p: Payment): PaymentRecord => ({
  orderId: p.orderId,
  amount: Number(p.amount),
  status: p.status,
  failureReason: p.failureReason ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export async function getPayment(em: EntityManager, orderId: string): Promise<PaymentRecord> {
  const payment = await em.fork().findOne(PaymentEntity, { orderId });
  if (!payment) throw new NotFoundError('payment', orderId);
  return toRecord(payment);
}

/** Replays what a first call answered: the record, or the same refusal. */
function replay(p: Payment, amount: number): PaymentRecord {
  if (p.status === PaymentStatus.FAILED)
    throw new PaymentDeclinedError(p.orderId, p.failureReason ?? 'declined');
  if (p.status === PaymentStatus.CANCELLED)
    throw new IllegalPaymentTransitionError(p.orderId, p.status, 'start');
  if (Number(p.amount) !== amount) throw new PaymentAmountMismatchError(p.orderId, Number(p.amount), amount);
  return toRecord(p);
}

/**
 * Saga step 4. Idempotent by orderId: a repeated call returns the first
 * result (or the first refusal). A payment cancelled before it started (the
 * compensation overtook the step) stays cancelled.
 */
export async function startPayment(
  em: EntityManager,
  gateway: FakeGateway,
  input: { orderId: string; amount: number },
  fault?: GatewayFault,
): Promise<PaymentRecord> {
  const existing = await em.fork().findOne(PaymentEntity, { orderId: input.orderId });
  if (existing) return replay(existing, input.amount);

  const declined = await gateway.authorize(fault);
  const now = new Date();
  const inserted = await em.fork().execute<Payment[]>(
    `insert into payments (order_id, amount, status, failure_reason, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?) on conflict (order_id) do nothing returning order_id`,
    [
      input.orderId,
      input.amount,
      declined ? PaymentStatus.FAILED : PaymentStatus.STARTED,
      declined ?? null,
      now,
      now,
    ],
  );
  // A concurrent first call won: answer what it recorded.
  const payment = await em.fork().findOneOrFail(PaymentEntity, { orderId: input.orderId });
  if (inserted.length === 0 || declined) return replay(payment, input.amount);
  await gateway.holdAnswer(fault);
  return toRecord(payment);
}

async function transition(
  em: EntityManager,
  orderId: string,
  target: typeof PaymentStatus.COMPLETED | typeof PaymentStatus.CANCELLED,
  allowedFrom: PaymentStatus[],
): Promise<PaymentRecord> {
  const result = await em.fork().transactional(async (tx) => {
    const payment = await tx.findOne(PaymentEntity, { orderId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!payment) return undefined;
    if (payment.status === target) return toRecord(payment);
    if (!allowedFrom.includes(payment.status)) {
      throw new IllegalPaymentTransitionError(
        orderId,
        payment.status,
        target === 'COMPLETED' ? 'complete' : 'cancel',
      );
    }
    payment.status = target;
    payment.updatedAt = new Date();
    await tx.flush();
    const type =
      target === 'COMPLETED' ? PaymentEventType.PaymentCompleted : PaymentEventType.PaymentCancelled;
    await addToOutbox(
      tx,
      newEvent({ topic: PAYMENT_EVENTS, type, source: 'payment', subject: orderId, data: { orderId } }),
    );
    return toRecord(payment);
  });
  return result ?? Promise.reject(new NotFoundError('payment', orderId));
}

/** Saga step 6: STARTED → COMPLETED once the gateway captures it; a repeat answers the same. */
export async function completePayment(
  em: EntityManager,
  gateway: FakeGateway,
  orderId: string,
  fault?: GatewayFault,
): Promise<PaymentRecord> {
  const payment = await em.fork().findOne(PaymentEntity, { orderId });
  if (payment?.status === PaymentStatus.STARTED) {
    const failed = await gateway.capture(fault);
    if (failed) throw new PaymentCaptureFailedError(orderId, failed);
  }
  return transition(em, orderId, PaymentStatus.COMPLETED, [PaymentStatus.STARTED]);
}

/**
 * Compensation of step 4: STARTED → CANCELLED; a repeat answers the same. A
 * FAILED payment has nothing to cancel and becomes CANCELLED too. For an
 * unknown payment (the step never ran, or has not yet), a CANCELLED record is
 * written so that a late start is refused. A COMPLETED payment is refused.
 */
export async function cancelPayment(em: EntityManager, orderId: string): Promise<PaymentRecord> {
  const now = new Date();
  await em.fork().execute(
    `insert into payments (order_id, amount, status, failure_reason, created_at, updated_at)
     values (?, 0, 'CANCELLED', 'cancelled before it started', ?, ?) on conflict (order_id) do nothing`,
    [orderId, now, now],
  );
  return transition(em, orderId, PaymentStatus.CANCELLED, [PaymentStatus.STARTED, PaymentStatus.FAILED]);
}
