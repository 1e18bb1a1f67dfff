import { type InferEntity, LockMode } from '@mikro-orm/core';
import { addToOutbox, type EntityManager, NotFoundError, newEvent } from '@shop/platform';
import { PaymentEntity, PaymentStatus } from '../db/entities.ts';
import { PAYMENT_EVENTS, PaymentEventType } from '../events/topics.ts';
import { type FakeGateway, GatewayError, type GatewayFault } from './fake-gateway.ts';
import {
  IllegalPaymentTransitionError,
  PaymentAmountMismatchError,
  PaymentCaptureFailedError,
  PaymentDeclinedError,
  PaymentGatewayUnavailableError,
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

/** Writes the order's payment row unless it has one: the first call's row stays (two calls at once: one writes). */
async function recordIfMissing(
  em: EntityManager,
  row: { orderId: string; amount: number; status: PaymentStatus; failureReason?: string },
): Promise<void> {
  const now = new Date();
  await em
    .fork()
    .createQueryBuilder(PaymentEntity)
    .insert({ failureReason: null, ...row, createdAt: now, updatedAt: now })
    .onConflict('orderId')
    .ignore()
    .execute();
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

/** The gateway's final answer: authorised, or refused with a reason. */
async function authorize(
  gateway: FakeGateway,
  orderId: string,
  fault: GatewayFault | undefined,
): Promise<
  { status: typeof PaymentStatus.STARTED } | { status: typeof PaymentStatus.FAILED; reason: string }
> {
  try {
    await gateway.authorize(orderId, fault);
    return { status: PaymentStatus.STARTED };
  } catch (err) {
    if (err instanceof GatewayError && (err.code === 'declined' || err.code === 'voided'))
      return { status: PaymentStatus.FAILED, reason: err.message };
    // No answer (or an unexpected failure): the row stays PENDING for a repeated start.
    throw new PaymentGatewayUnavailableError(orderId, err);
  }
}

/**
 * Saga step 4. The PENDING row is written first, so a payment the gateway
 * may have made is always on record (to ask for, retry or cancel); then the
 * gateway is asked and the row becomes STARTED or FAILED. A start that finds
 * its row still PENDING (the previous call crashed or lost the answer) asks
 * the gateway again, which is idempotent per order. Otherwise a repeated call
 * returns the first result (or the first refusal); a payment cancelled before
 * it started stays cancelled.
 */
export async function startPayment(
  em: EntityManager,
  gateway: FakeGateway,
  input: { orderId: string; amount: number },
  fault?: GatewayFault,
): Promise<PaymentRecord> {
  await recordIfMissing(em, { orderId: input.orderId, amount: input.amount, status: PaymentStatus.PENDING });
  const recorded = await em.fork().findOneOrFail(PaymentEntity, { orderId: input.orderId });
  if (recorded.status !== PaymentStatus.PENDING || Number(recorded.amount) !== input.amount)
    return replay(recorded, input.amount);

  const outcome = await authorize(gateway, input.orderId, fault);
  const settled = await em.fork().nativeUpdate(
    PaymentEntity,
    { orderId: input.orderId, status: PaymentStatus.PENDING },
    {
      status: outcome.status,
      failureReason: outcome.status === PaymentStatus.FAILED ? outcome.reason : null,
      updatedAt: new Date(),
    },
  );
  // Settled by a concurrent start or a cancel, or declined: answer what is recorded.
  const payment = await em.fork().findOneOrFail(PaymentEntity, { orderId: input.orderId });
  if (settled === 0 || payment.status !== PaymentStatus.STARTED) return replay(payment, input.amount);
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
    await gateway.capture(orderId, fault).catch((err) => {
      if (err instanceof GatewayError && err.code === 'capture-refused')
        throw new PaymentCaptureFailedError(orderId, err.message);
      throw err;
    });
  }
  return transition(em, orderId, PaymentStatus.COMPLETED, [PaymentStatus.STARTED]);
}

/**
 * Compensation of step 4: PENDING or STARTED → CANCELLED, after voiding the
 * authorisation at the gateway (a PENDING one may exist, or land later: the
 * void makes the gateway refuse it); a repeat answers the same. A FAILED
 * payment has nothing to void and becomes CANCELLED too. For an unknown
 * payment (the step never ran, or has not yet), a CANCELLED record is written
 * so that a late start is refused. A COMPLETED payment is refused.
 */
export async function cancelPayment(
  em: EntityManager,
  gateway: FakeGateway,
  orderId: string,
): Promise<PaymentRecord> {
  await recordIfMissing(em, {
    orderId,
    amount: 0,
    status: PaymentStatus.CANCELLED,
    failureReason: 'cancelled before it started',
  });
  const payment = await em.fork().findOneOrFail(PaymentEntity, { orderId });
  if (payment.status === PaymentStatus.PENDING || payment.status === PaymentStatus.STARTED)
    await gateway.void(orderId);
  return transition(em, orderId, PaymentStatus.CANCELLED, [
    PaymentStatus.PENDING,
    PaymentStatus.STARTED,
    PaymentStatus.FAILED,
  ]);
}
