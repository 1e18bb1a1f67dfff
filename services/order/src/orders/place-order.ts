import { UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  type DaprSidecar,
  type EntityManager,
  IdempotencyKeyReusedError,
  requestFingerprint,
  uuidv7,
  ValidationError,
} from '@shop/platform';
import {
  MAX_ORDER_TOTAL,
  MAX_QUANTITY_PER_PRODUCT,
  type NewOrder,
  type OrderLine,
  type OrderView,
  STEPS,
  type Step,
} from './order.model.ts';
import { findByIdempotencyKey, findOrder, insertOrder } from './order.repository.ts';
import { cartLines, priceLines } from './product-catalog.ts';

/** Adds up lines of the same product. */
const mergeLines = (items: OrderLine[]): OrderLine[] => {
  const merged = new Map<string, number>();
  for (const i of items) merged.set(i.productId, (merged.get(i.productId) ?? 0) + i.quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
};

/**
 * Records a new order PENDING with its lines and steps, refusing at once what
 * a later step is sure to refuse. With an idempotency key, a repeated request
 * (same user, same key, same body) returns the order the first one created;
 * the same key with another body is refused. A key is looked up among its own
 * user's orders only.
 */
export async function createOrder(
  deps: { em: EntityManager; sidecar: DaprSidecar },
  input: NewOrder,
  idempotencyKey?: string,
): Promise<{ order: OrderView; created: boolean }> {
  const requestHash = idempotencyKey ? requestFingerprint(input) : null;
  if (idempotencyKey) {
    const existing = await findByIdempotencyKey(deps.em, input.userId, idempotencyKey);
    if (existing) {
      // Orders from before fingerprints were stored (null) are taken as the same request.
      if (existing.requestHash !== null && existing.requestHash !== requestHash) {
        throw new IdempotencyKeyReusedError(idempotencyKey);
      }
      return { order: await findOrder(deps.em, existing.id), created: false };
    }
  }
  const items = input.fromCart ? await cartLines(deps.sidecar, input.userId) : input.items;
  if (items.length === 0)
    throw new ValidationError([{ field: 'body.fromCart', message: 'the cart is empty' }]);
  const merged = mergeLines(items);
  const tooMany = merged.filter((l) => l.quantity > MAX_QUANTITY_PER_PRODUCT);
  if (tooMany.length > 0) {
    throw new ValidationError(
      tooMany.map((l) => ({
        field: 'body.items',
        message: `${l.quantity} of product ${l.productId}: at most ${MAX_QUANTITY_PER_PRODUCT} per order`,
      })),
    );
  }
  const lines = await priceLines(deps.sidecar, merged);
  const total = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
  if (total > MAX_ORDER_TOTAL) {
    throw new ValidationError([
      { field: 'body.items', message: `the total (${total} KRW) is over ${MAX_ORDER_TOTAL} KRW` },
    ]);
  }
  if (input.pointsToUse > total) {
    throw new ValidationError([
      { field: 'body.pointsToUse', message: `more than the order total (${total} KRW)` },
    ]);
  }
  const orderId = uuidv7();
  const skipped = new Set<Step>([
    ...(input.couponId ? [] : (['useCoupon', 'applyCoupon'] as const)),
    ...(input.pointsToUse > 0 ? [] : (['deductPoints'] as const)),
  ]);
  try {
    await deps.em.fork().transactional((tx) =>
      insertOrder(tx, {
        id: orderId,
        userId: input.userId,
        couponId: input.couponId ?? null,
        pointsToUse: input.pointsToUse,
        totalAmount: total,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
        fromCart: input.fromCart ?? false,
        lines,
        steps: STEPS.map((step) => ({ step, state: skipped.has(step) ? 'skipped' : 'pending' })),
      }),
    );
  } catch (err) {
    // The same key sent twice at once: the unique index decides (the loser waits for the
    // winner's commit), and the loser answers as a repeat.
    // (The order's id is a fresh UUIDv7: the key's index is the only one it can collide on.)
    if (idempotencyKey && err instanceof UniqueConstraintViolationException) {
      return createOrder(deps, input, idempotencyKey);
    }
    throw err;
  }
  return { order: await findOrder(deps.em, orderId), created: true };
}
