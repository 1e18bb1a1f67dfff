import { type EntityManager, pageQuerySchema, type Redis, Routes } from '@shop/platform';
import { z } from 'zod';
import { ProductStatus } from '../db/entities.ts';
import type { Products } from '../products/products.ts';
import { topSellers } from '../ranking/ranking.ts';
import { deductStock, getStock, restoreStock } from '../stock/stock.ts';

const idParams = z.object({ id: z.uuid() });
const status = z.enum([ProductStatus.ACTIVE, ProductStatus.INACTIVE]);
const price = z.number().int().min(0).max(1_000_000_000);
const createBody = z.object({
  name: z.string().trim().min(1).max(200),
  price,
  status: status.default(ProductStatus.ACTIVE),
  stock: z.number().int().min(0).max(1_000_000_000).default(0),
});
const updateBody = z
  .object({ name: z.string().trim().min(1).max(200), price, status })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'name, price or status is required' });
const listQuery = pageQuerySchema.extend({ status: status.optional() });
const rankingQuery = z.object({
  days: z.coerce.number().int().min(1).max(30).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});
const deductBody = z.object({
  orderId: z.uuid(),
  items: z
    .array(z.object({ productId: z.uuid(), quantity: z.number().int().min(1).max(10_000) }))
    .min(1)
    .max(100),
});
const orderBody = z.object({ orderId: z.uuid() });

export function productsRoutes(
  em: EntityManager,
  redis: Redis,
  products: Products,
  outboxWritten: () => void,
): Routes {
  return (
    new Routes()
      .add(
        {
          method: 'get',
          path: '/products',
          summary: 'The catalog with live stock',
          query: listQuery,
          responses: { 200: { description: 'A page of products' } },
        },
        async (ctx, { query }) => {
          ctx.body = await products.list(query);
        },
      )
      .add(
        {
          method: 'get',
          path: '/products/ranking',
          summary: 'Units sold over the last N UTC days',
          query: rankingQuery,
          responses: { 200: { description: '`{items}`' } },
        },
        async (ctx, { query }) => {
          const { days, limit } = query;
          const top = await topSellers(redis, days, limit);
          const names = await products.names(top.map((t) => t.productId));
          ctx.body = {
            days,
            items: top.map((t, i) => ({
              rank: i + 1,
              productId: t.productId,
              name: names.get(t.productId) ?? null,
              sold: t.sold,
            })),
          };
        },
      )
      .add(
        {
          method: 'get',
          path: '/products/:id',
          summary: 'A product',
          params: idParams,
          responses: { 200: { description: 'The product' } },
        },
        async (ctx, { params }) => {
          ctx.body = await products.get(params.id);
        },
      )
      .add(
        {
          method: 'get',
          path: '/products/:id/stock',
          summary: 'A product’s stock',
          params: idParams,
          responses: { 200: { description: '`{productId, stock}`' } },
        },
        async (ctx, { params }) => {
          ctx.body = await getStock(em, params.id);
        },
      )
      // Admin endpoints (behind the cluster's admin ingress; no auth in this service).
      .add(
        {
          method: 'post',
          path: '/products',
          summary: 'Admin: creates a product',
          body: createBody,
          responses: { 201: { description: 'The product' } },
        },
        async (ctx, { body }) => {
          const product = await products.create(body);
          ctx.status = 201;
          ctx.set('location', `/products/${product.id}`);
          ctx.body = product;
        },
      )
      .add(
        {
          method: 'patch',
          path: '/products/:id',
          summary: 'Admin: changes a product',
          params: idParams,
          body: updateBody,
          responses: { 200: { description: 'The product' } },
        },
        async (ctx, { params, body }) => {
          ctx.body = await products.update(params.id, body);
        },
      )
      // Saga steps, called through Dapr service invocation.
      .add(
        {
          method: 'post',
          path: '/saga/stock/deduct',
          summary: 'Saga step: takes every line’s stock or none, once per order',
          body: deductBody,
          responses: { 200: { description: 'The movements' } },
          problems: [409],
        },
        async (ctx, { body }) => {
          const { orderId, items } = body;
          ctx.body = await deductStock(em, orderId, items);
          outboxWritten();
        },
      )
      .add(
        {
          method: 'post',
          path: '/saga/stock/restore',
          summary: 'Compensation: puts back what the order took, once',
          body: orderBody,
          responses: { 200: { description: 'The movements' } },
          problems: [409],
        },
        async (ctx, { body }) => {
          ctx.body = await restoreStock(em, body.orderId);
          outboxWritten();
        },
      )
  );
}
