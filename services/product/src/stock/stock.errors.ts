import { BusinessRuleError } from '@shop/platform';

export class OutOfStockError extends BusinessRuleError {
  constructor(productId: string, asked: number, available: number) {
    super(
      'out-of-stock',
      'Not enough stock',
      `Product ${productId} has ${available} left; ${asked} were asked for.`,
      {
        productId,
        asked,
        available,
      },
    );
  }
}

export class ProductUnavailableError extends BusinessRuleError {
  constructor(productId: string) {
    super('product-unavailable', 'The product is not on sale', `Product ${productId} is not active.`, {
      productId,
    });
  }
}

/** The order's stock was restored (the compensation overtook the step, or a re-run follows it). */
export class StockAlreadyRestoredError extends BusinessRuleError {
  constructor(orderId: string) {
    super(
      'stock-already-restored',
      'The stock of this order was already restored',
      `Order ${orderId} was compensated; its stock will not be taken now.`,
      { orderId },
    );
  }
}
