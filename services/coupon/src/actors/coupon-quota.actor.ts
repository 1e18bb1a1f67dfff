import type { ActorContext, ActorType } from '@shop/platform';
import { z } from 'zod';
import { COUPON_QUOTA_ACTOR } from '../events/topics.ts';

const configureBody = z.object({ quota: z.number().int().min(0) });
const claimBody = z.object({ requestId: z.uuid(), userId: z.uuid(), quota: z.number().int().min(0) });

export type ClaimDecision = { accepted: true } | { accepted: false; reason: 'SOLD_OUT' | 'ALREADY_ISSUED' };
export type ClaimInput = z.infer<typeof claimBody>;

export interface QuotaState {
  quota: number;
  issued: number;
}

/**
 * Counts one coupon's first-come-first-served quota. Dapr runs one call at a
 * time per actor id and one activation in the cluster, so read-check-write
 * needs no lock and cannot oversell.
 *
 * Nothing is kept in memory: every call reads the state store. With several
 * replicas an actor moves between hosts (placement rebalances, a sidecar dies)
 * without each host hearing of it, and a save that failed may still have been
 * applied; a cached counter would be stale in both cases and oversell.
 *
 * State keys: `quota`, `issued`, `user:<userId>` (the request that got the
 * coupon: one per user) and `req:<requestId>` (the decision, so that a request
 * processed again after a crash gets the same answer and counts once). All
 * keys of one decision are saved in one state store transaction.
 */
async function readQuota(actor: ActorContext, quotaIfNew?: number): Promise<QuotaState> {
  const [quota, issued] = await Promise.all([
    actor.getState<number>('quota'),
    actor.getState<number>('issued'),
  ]);
  return { quota: quota ?? quotaIfNew ?? 0, issued: issued ?? 0 };
}

export const couponQuotaActor: ActorType = {
  type: COUPON_QUOTA_ACTOR,
  methods: {
    async configure(actor, body) {
      const { quota } = configureBody.parse(body);
      const { issued } = await readQuota(actor);
      await actor.setState({ quota, issued });
      return { quota, issued } satisfies QuotaState;
    },
    /** Decides one request; the coupon's quota comes with it, used when the actor is new. */
    async claim(actor, body): Promise<ClaimDecision> {
      const { requestId, userId, quota } = claimBody.parse(body);
      const [earlier, holder, state] = await Promise.all([
        actor.getState<ClaimDecision>(`req:${requestId}`),
        actor.getState<string>(`user:${userId}`),
        readQuota(actor, quota),
      ]);
      if (earlier) return earlier;
      let decision: ClaimDecision;
      if (holder) decision = { accepted: false, reason: 'ALREADY_ISSUED' };
      else if (state.issued >= state.quota) decision = { accepted: false, reason: 'SOLD_OUT' };
      else decision = { accepted: true };

      await actor.setState({
        quota: state.quota,
        issued: decision.accepted ? state.issued + 1 : state.issued,
        [`req:${requestId}`]: decision,
        ...(decision.accepted ? { [`user:${userId}`]: requestId } : {}),
      });
      return decision;
    },
    async status(actor) {
      return (await readQuota(actor)) satisfies QuotaState;
    },
  },
};
