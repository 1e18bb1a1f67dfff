import { DaprHttpError, type DaprSidecar, ValidationError } from '@shop/platform';
import { AppId } from '../events/topics.ts';
import type { OrderLine } from './order.model.ts';

/** The lines of the buyer's cart (product service), as an order's items. */
export async function cartLines(sidecar: DaprSidecar, userId: string): Promise<OrderLine[]> {
  const cart = await sidecar.invoke<{ lines: { productId: string; quantity: number }[] }>(
    AppId.product,
    `users/${userId}/cart`,
    'GET',
  );
  return cart.lines.map(({ productId, quantity }) => ({ productId, quantity }));
}

export type PricedLine = OrderLine & { productName: string; unitPrice: number };

/**
 * Name and price of each line from the product service (through Dapr), copied
 * into the order and never joined later. A product missing or not on sale is
 * the client's error, on the line's field.
 */
export async function priceLines(sidecar: DaprSidecar, lines: OrderLine[]): Promise<PricedLine[]> {
  return Promise.all(
    lines.map(async (line, i) => {
      try {
        const product = await sidecar.invoke<{ name: string; price: number; status: string }>(
          AppId.product,
          `products/${line.productId}`,
          'GET',
        );
        if (product.status !== 'ACTIVE') {
          throw new ValidationError([
            { field: `body.items.${i}.productId`, message: 'this product is not on sale' },
          ]);
        }
        return { ...line, productName: product.name, unitPrice: product.price };
      } catch (err) {
        if (err instanceof DaprHttpError && err.status === 404) {
          throw new ValidationError([{ field: `body.items.${i}.productId`, message: 'no such product' }]);
        }
        throw err;
      }
    }),
  );
}
