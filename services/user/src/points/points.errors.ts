import { BusinessRuleError } from '@shop/platform';

export class InsufficientPointsError extends BusinessRuleError {
  constructor(userId: string, balance: number, asked: number) {
    super(
      'insufficient-points',
      'Not enough points',
      `User ${userId} has ${balance} points; ${asked} were asked for.`,
      { userId, balance, asked },
    );
  }
}

/** The order's points were refunded (the compensation overtook the step, or a re-run follows it). */
export class PointsAlreadyRefundedError extends BusinessRuleError {
  constructor(orderId: string) {
    super(
      'points-already-refunded',
      'The points of this order were already refunded',
      `Order ${orderId} was compensated; its points will not be taken now.`,
      { orderId },
    );
  }
}
