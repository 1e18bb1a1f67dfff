import type { EventHandler } from '@shop/platform';
import { z } from 'zod';
import { COUPON_EVENTS, CouponEventType } from '../events/topics.ts';
import type { IssueWorker } from './issue-worker.ts';

const data = z.object({ requestId: z.uuid(), couponId: z.uuid(), userId: z.uuid() });

/**
 * Hands each accepted request to this replica's worker. The decision is not
 * made here: this runs inside the inbox's transaction, and the worker must
 * call the quota actor with no transaction open. Losing the hand-over (a
 * crash) loses nothing: the request is in Postgres and the sweep finds it.
 */
export function issueRequestedHandler(worker: IssueWorker): EventHandler<typeof data> {
  return {
    consumer: 'coupon.issue-worker',
    topic: COUPON_EVENTS,
    eventType: CouponEventType.CouponIssueRequested,
    data,
    async handle(_tx, { requestId }) {
      worker.enqueue(requestId);
    },
  };
}
