import { type EntityManager, type RequestState, Routes, streamChanges } from '@shop/platform';
import { z } from 'zod';
import { createCoupon, getCoupon, listCurrentCoupons } from '../coupons/coupons.ts';
import { getRequest, type IssueIntake, isTerminal, type RequestStatusCache } from '../issuance/requests.ts';
import { listUserCoupons, restoreCoupon, useCoupon } from '../usage/coupon-use.ts';

const idParams = z.object({ id: z.uuid() });
const krw = z.number().int().min(0).max(1_000_000_000);
// Postgres has no year 0 (1 BC comes before 1 AD): such a time would fail in the database, as a 500.
const instant = z.iso
  .datetime({ offset: true })
  .refine((v) => !v.startsWith('0000'), 'year 0 does not exist');
const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    discountType: z.enum(['FIXED', 'PERCENT']),
    discountValue: z.number().int().positive(),
    maxDiscount: krw.positive().nullable().optional(),
    quota: z.number().int().min(0).max(10_000_000),
    minOrderAmount: krw.default(0),
    startsAt: instant,
    endsAt: instant,
  })
  .refine((c) => c.discountType === 'FIXED' || c.discountValue <= 100, {
    path: ['discountValue'],
    message: 'a percentage is at most 100',
  })
  .refine((c) => new Date(c.endsAt) > new Date(c.startsAt), {
    path: ['endsAt'],
    message: 'must be after startsAt',
  });
const issueBody = z.object({ userId: z.uuid() });
const useBody = z.object({ orderId: z.uuid(), userId: z.uuid(), couponId: z.uuid(), orderAmount: krw });
const orderBody = z.object({ orderId: z.uuid() });

/** How often the SSE stream looks for a change, and how long one stream lasts (the client reconnects). */
const STREAM_POLL_MS = 200;
const STREAM_MAX_MS = 60_000;

export interface CouponRoutesDeps {
  em: EntityManager;
  intake: IssueIntake;
  statuses: RequestStatusCache;
  outboxWritten: () => void;
}

export function couponsRoutes(deps: CouponRoutesDeps): Routes {
  const { em, statuses } = deps;
  return (
    new Routes()
      // Admin: coupon definitions.
      .add(
        {
          method: 'post',
          path: '/coupons',
          summary: 'Admin: defines a coupon',
          body: createBody,
          responses: { 201: { description: 'The coupon' } },
        },
        async (ctx, { body }) => {
          const coupon = await createCoupon(em, body);
          ctx.status = 201;
          ctx.set('location', `/coupons/${coupon.id}`);
          ctx.body = coupon;
        },
      )
      .add(
        {
          method: 'get',
          path: '/coupons',
          summary: 'The coupons open or coming (not yet ended), newest first, with the seats taken',
          responses: { 200: { description: '`{items}`: each coupon with `issued` and `window`' } },
        },
        async (ctx) => {
          ctx.body = { items: await listCurrentCoupons(em) };
        },
      )
      .add(
        {
          method: 'get',
          path: '/coupons/:id',
          summary: 'A coupon',
          params: idParams,
          responses: { 200: { description: 'The coupon' } },
        },
        async (ctx, { params }) => {
          ctx.body = await getCoupon(em, params.id);
        },
      )
      // First come, first served: answered at once; the decision follows.
      .add(
        {
          method: 'post',
          path: '/coupons/:id/issue',
          summary: 'Asks for the coupon, first come first served: answered at once, decided after',
          params: idParams,
          body: issueBody,
          responses: { 202: { description: '`{requestId, status: "QUEUED"}`' } },
          problems: [429],
        },
        async (ctx, { params, body }) => {
          // A drop sends a thousand a second: one info line each would cost more than the request.
          (ctx.state as RequestState).quiet = true;
          const { id } = params;
          const request = await deps.intake.request(id, body.userId);
          ctx.status = 202;
          ctx.set('location', `/coupon-requests/${request.requestId}`);
          ctx.body = { requestId: request.requestId, status: request.status };
        },
      )
      .add(
        {
          method: 'get',
          path: '/coupon-requests/:id',
          summary: 'A request’s state',
          params: idParams,
          responses: { 200: { description: 'The request' } },
        },
        async (ctx, { params }) => {
          ctx.body = await getRequest(em, statuses, params.id);
        },
      )
      /** Server-sent events: one `status` event per change, until COMPLETED or REJECTED. */
      .add(
        {
          method: 'get',
          path: '/coupon-requests/:id/events',
          summary: 'The same as server-sent events, until the final state',
          params: idParams,
          responses: { 200: { description: '`event: status` per change', eventStream: true } },
        },
        async (ctx, { params }) => {
          const { id } = params;
          await streamChanges(ctx, {
            read: () => getRequest(em, statuses, id),
            isFinal: (r) => isTerminal(r.status),
            changeKey: (r) => r.status,
            event: 'status',
            pollMs: STREAM_POLL_MS,
            maxMs: STREAM_MAX_MS,
          });
        },
      )
      .add(
        {
          method: 'get',
          path: '/users/:id/coupons',
          summary: 'A user’s coupons',
          params: idParams,
          responses: { 200: { description: '`{items}`' } },
        },
        async (ctx, { params }) => {
          ctx.body = { items: await listUserCoupons(em, params.id) };
        },
      )
      // Saga steps, called through Dapr service invocation.
      .add(
        {
          method: 'post',
          path: '/saga/coupons/use',
          summary: 'Saga step: ISSUED → USED, the discount; once per order',
          body: useBody,
          responses: { 200: { description: '`{discount, …}`' } },
          problems: [404, 409],
        },
        async (ctx, { body }) => {
          ctx.body = await useCoupon(em, body);
          deps.outboxWritten();
        },
      )
      .add(
        {
          method: 'post',
          path: '/saga/coupons/restore',
          summary: 'Compensation: USED by this order → ISSUED, once',
          body: orderBody,
          responses: { 200: { description: 'The coupon use, restored' } },
          problems: [409],
        },
        async (ctx, { body }) => {
          ctx.body = await restoreCoupon(em, body.orderId);
          deps.outboxWritten();
        },
      )
  );
}
