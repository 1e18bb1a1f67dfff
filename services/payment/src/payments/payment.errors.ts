import { AppError, BusinessRuleError } from '@shop/platform';
import type { PaymentStatus } from '../db/entities.ts';

/** The gateway refused the payment; the saga compensates, it does not retry. */
export class PaymentDeclinedError extends BusinessRuleError {
  constructor(orderId: string, reason: string) {
    super('payment-declined', 'The payment was declined', reason, { orderId });
  }
}

/** A transition the payment's state does not allow (e.g. cancel after completion). */
export class IllegalPaymentTransitionError extends BusinessRuleError {
  constructor(orderId: string, from: PaymentStatus, action: string) {
    super(
      'illegal-payment-transition',
      'The payment cannot do that in its state',
      `Payment of order ${orderId} is ${from}; it cannot ${action}.`,
      { orderId, status: from },
    );
  }
}

export class PaymentAmountMismatchError extends BusinessRuleError {
  constructor(orderId: string, recorded: number, asked: number) {
    super(
      'payment-amount-mismatch',
      'The order already has a payment of another amount',
      `Payment of order ${orderId} was started for ${recorded} KRW, not ${asked} KRW.`,
      { orderId, recorded, asked },
    );
  }
}

/** The gateway could not capture a started payment; it stays STARTED (the saga cancels it). */
export class PaymentCaptureFailedError extends BusinessRuleError {
  constructor(orderId: string, reason: string) {
    super('payment-capture-failed', 'The payment could not be completed', reason, { orderId });
  }
}

/**
 * The gateway's answer is not known (lost, or the call failed): the payment
 * stays PENDING and a repeated start asks the gateway again. A 503, so the
 * saga retries.
 */
export class PaymentGatewayUnavailableError extends AppError {
  constructor(orderId: string, cause: unknown) {
    super({
      slug: 'payment-gateway-unavailable',
      title: 'The payment gateway did not answer',
      status: 503,
      detail: `The payment of order ${orderId} is PENDING; ask again to finish it.`,
      extensions: { orderId },
      cause,
    });
  }
}
