import { type EntityManager, Routes } from '@shop/platform';
import { z } from 'zod';
import { clearCart, MAX_LINE_QUANTITY, putInCart, readCart, removeFromCart } from '../cart/cart.ts';

const userParams = z.object({ id: z.uuid() });
const lineParams = userParams.extend({ productId: z.uuid() });
const quantity = z.number().int().min(1).max(MAX_LINE_QUANTITY);
const addBody = z.object({ productId: z.uuid(), quantity: quantity.default(1) });
const setBody = z.object({ quantity });

const cartAnswer = { 200: { description: 'The cart: `{userId, lines, total, updatedAt}`' } };

/** The owner's cart (the gateway lets only its owner through). */
export function cartRoutes(em: EntityManager): Routes {
  return new Routes()
    .add(
      {
        method: 'get',
        path: '/users/:id/cart',
        summary: 'A user’s cart, each line with its product’s live price, stock and availability',
        params: userParams,
        responses: cartAnswer,
      },
      async (ctx, { params }) => {
        ctx.body = await readCart(em, params.id);
      },
    )
    .add(
      {
        method: 'post',
        path: '/users/:id/cart/lines',
        summary: 'Adds a product to the cart (to its line, if it has one)',
        params: userParams,
        body: addBody,
        responses: cartAnswer,
      },
      async (ctx, { params, body }) => {
        ctx.body = await putInCart(em, params.id, body, 'add');
      },
    )
    .add(
      {
        method: 'put',
        path: '/users/:id/cart/lines/:productId',
        summary: 'Sets how many of a product the cart holds',
        params: lineParams,
        body: setBody,
        responses: cartAnswer,
      },
      async (ctx, { params, body }) => {
        ctx.body = await putInCart(
          em,
          params.id,
          { productId: params.productId, quantity: body.quantity },
          'set',
        );
      },
    )
    .add(
      {
        method: 'delete',
        path: '/users/:id/cart/lines/:productId',
        summary: 'Takes a product out of the cart',
        params: lineParams,
        responses: cartAnswer,
      },
      async (ctx, { params }) => {
        ctx.body = await removeFromCart(em, params.id, params.productId);
      },
    )
    .add(
      {
        method: 'delete',
        path: '/users/:id/cart',
        summary: 'Empties the cart',
        params: userParams,
        responses: cartAnswer,
      },
      async (ctx, { params }) => {
        ctx.body = await clearCart(em, params.id);
      },
    );
}
