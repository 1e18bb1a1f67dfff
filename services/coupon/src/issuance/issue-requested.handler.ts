import { addToOutbox, type DaprSidecar, type EventHandler, newEvent, uuidv7 } from '@shop/platform';
import { z } from 'zod';
import type { ClaimDecision } from '../actors/coupon-quota.actor.ts';
import { findCoupon, windowState } from '../coupons/coupons.ts';
import { COUPON_EVENTS, COUPON_QUOTA_ACTOR, CouponEventType } from '../events/topics.ts';
import {
  type IssueRequest,
  isTerminal,
  type RejectReason,
  type RequestStatus,
  type RequestStatusCache,
} from './requests.ts';

const data = z.object({ requestId: z.uuid(), couponId: z.uuid(), userId: z.uuid() });

/**
 * The worker: decides each accepted request. The quota actor decides sold out
 * or already issued (once per request id, so a redelivery after a crash gets
 * the same answer); the user_coupons row, the request's final state and the
 * event are written in the inbox's transaction.
 */
export function issueRequestedHandler(deps: {
  sidecar: DaprSidecar;
  statuses: RequestStatusCache;
}): EventHandler<typeof data> {
  return {
    consumer: 'coupon.issue-worker',
    topic: COUPON_EVENTS,
    eventType: CouponEventType.CouponIssueRequested,
    data,
    async handle(tx, { requestId, couponId, userId }) {
      const [request] = await tx.execute<{ status: RequestStatus; created_at: string }[]>(
        'select status, created_at from issue_requests where id = ? for update',
        [requestId],
      );
      if (!request || isTerminal(request.status)) return;
      const show = (status: RequestStatus, reason: RejectReason | null = null): IssueRequest => ({
        requestId,
        couponId,
        userId,
        status,
        reason,
        updatedAt: new Date().toISOString(),
      });
      await deps.statuses.put(show('PROCESSING'));

      const coupon = await findCoupon(tx, couponId);
      if (!coupon) throw new Error(`coupon ${couponId} of request ${requestId} does not exist`);
      // The window is judged at the time the user asked, not when the worker got to it.
      const window = windowState(coupon, new Date(request.created_at));
      const decision: ClaimDecision | { accepted: false; reason: 'NOT_STARTED' | 'EXPIRED' } =
        window !== 'OPEN'
          ? { accepted: false, reason: window }
          : await deps.sidecar.invokeActor<ClaimDecision>(COUPON_QUOTA_ACTOR, couponId, 'claim', {
              requestId,
              userId,
              quota: coupon.quota,
            });

      if (decision.accepted) {
        await tx.execute(
          "insert into user_coupons (id, coupon_id, user_id, request_id, status) values (?, ?, ?, ?, 'ISSUED')",
          [uuidv7(), couponId, userId, requestId],
        );
      }
      const final = decision.accepted ? show('COMPLETED') : show('REJECTED', decision.reason);
      await tx.execute('update issue_requests set status = ?, reason = ?, updated_at = now() where id = ?', [
        final.status,
        final.reason,
        requestId,
      ]);
      await addToOutbox(
        tx,
        newEvent({
          topic: COUPON_EVENTS,
          type: decision.accepted ? CouponEventType.CouponIssued : CouponEventType.CouponIssueRejected,
          source: 'coupon',
          subject: requestId,
          data: { requestId, couponId, userId, ...(final.reason ? { reason: final.reason } : {}) },
        }),
      );
      await deps.statuses.put(final);
    },
  };
}
