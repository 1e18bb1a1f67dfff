import { type EntityManager, Routes } from '@shop/platform';
import { z } from 'zod';
import { findExport, listExports, redriveExport } from '../export/exports.ts';

const listQuery = z.object({ status: z.enum(['PENDING', 'SENT', 'DEAD']).optional() });
const orderParams = z.object({ orderId: z.uuid() });

/** Operators: the completed orders' export to the data platform, and the re-drive of a DEAD one. */
export function exportsRoutes(em: EntityManager): Routes {
  return new Routes()
    .add(
      {
        method: 'get',
        path: '/ops/exports',
        summary: 'Operations: completed orders’ exports to the data platform, newest first (by status)',
        query: listQuery,
        responses: { 200: { description: '`{items}`' } },
      },
      async (ctx, { query }) => {
        ctx.body = { items: await listExports(em, query.status, 500) };
      },
    )
    .add(
      {
        method: 'get',
        path: '/ops/exports/:orderId',
        summary: 'Operations: one order’s export (its record, attempts and last error)',
        params: orderParams,
        responses: { 200: { description: 'The export' } },
        problems: [404],
      },
      async (ctx, { params }) => {
        ctx.body = await findExport(em, params.orderId);
      },
    )
    .add(
      {
        method: 'post',
        path: '/ops/exports/:orderId/redrive',
        summary:
          'Operations: sends a DEAD export again with a fresh budget (one in another status is left as it is)',
        params: orderParams,
        responses: { 202: { description: 'The export, PENDING again' } },
        problems: [404],
      },
      async (ctx, { params }) => {
        ctx.status = 202;
        ctx.body = await redriveExport(em, params.orderId);
      },
    );
}
