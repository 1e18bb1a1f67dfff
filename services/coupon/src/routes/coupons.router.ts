import Router from '@koa/router';
import { type EntityManager, parseBody, parseParams, type RequestState, streamChanges } from '@shop/platform';
import { z } from 'zod';
import { createCoupon, getCoupon } from '../coupons/coupons.ts';
import { getRequest, type IssueIntake, isTerminal, type RequestStatusCache } from '../issuance/requests.ts';
import { listUserCoupons, restoreCoupon, useCoupon } from '../usage/coupon-use.ts';

const idParams = z.object({ id: z.uuid() });
const krw = z.number().int().min(0).max(1_000_000_000);
const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    discountType: z.enum(['FIXED', 'PERCENT']),
    discountValue: z.number().int().positive(),
    maxDiscount: krw.positive().nullable().optional(),
    quota: z.number().int().min(0).max(10_000_000),
    minOrderAmount: krw.default(0),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
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

export function couponsRouter(deps: CouponRoutesDeps): Router {
  const { em, statuses } = deps;
  const router = new Router();

  // Admin: coupon definitions.
  router.post('/coupons', async (ctx) => {
    const coupon = await createCoupon(em, parseBody(ctx, createBody));
    ctx.status = 201;
    ctx.set('location', `/coupons/${coupon.id}`);
    ctx.body = coupon;
  });
  router.get('/coupons/:id', async (ctx) => {
    ctx.body = await getCoupon(em, parseParams(ctx, idParams).id);
  });

  // First come, first served: answered at once; the decision follows.
  router.post('/coupons/:id/issue', async (ctx) => {
    // A drop sends a thousand a second: one info line each would cost more than the request.
    (ctx.state as RequestState).quiet = true;
    const { id } = parseParams(ctx, idParams);
    const request = await deps.intake.request(id, parseBody(ctx, issueBody).userId);
    ctx.status = 202;
    ctx.set('location', `/coupon-requests/${request.requestId}`);
    ctx.body = { requestId: request.requestId, status: request.status };
  });
  router.get('/coupon-requests/:id', async (ctx) => {
    ctx.body = await getRequest(em, statuses, parseParams(ctx, idParams).id);
  });
  /** Server-sent events: one `status` event per change, until COMPLETED or REJECTED. */
  router.get('/coupon-requests/:id/events', async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    await streamChanges(ctx, {
      read: () => getRequest(em, statuses, id),
      isFinal: (r) => isTerminal(r.status),
      changeKey: (r) => r.status,
      event: 'status',
      pollMs: STREAM_POLL_MS,
      maxMs: STREAM_MAX_MS,
    });
  });
  router.get('/users/:id/coupons', async (ctx) => {
    ctx.body = { items: await listUserCoupons(em, parseParams(ctx, idParams).id) };
  });

  // Saga steps, called through Dapr service invocation.
  router.post('/saga/coupons/use', async (ctx) => {
    ctx.body = await useCoupon(em, parseBody(ctx, useBody));
    deps.outboxWritten();
  });
  router.post('/saga/coupons/restore', async (ctx) => {
    ctx.body = await restoreCoupon(em, parseBody(ctx, orderBody).orderId);
    deps.outboxWritten();
  });
  return router;
}
