/**
 * What an order costs, settled once the discount is known: the points asked
 * for are taken only up to what is left to pay, and the rest is paid. So
 * `discount + pointsUsed + paymentAmount = total`, always.
 */
export interface Bill {
  total: number;
  discount: number;
  pointsUsed: number;
  paymentAmount: number;
}

export function settleBill(total: number, discount: number, pointsToUse: number): Bill {
  const applied = Math.min(Math.max(0, discount), total);
  const pointsUsed = Math.min(Math.max(0, pointsToUse), total - applied);
  return { total, discount: applied, pointsUsed, paymentAmount: total - applied - pointsUsed };
}
