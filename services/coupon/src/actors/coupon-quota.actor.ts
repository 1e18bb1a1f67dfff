import type { ActorContext, ActorType } from '@shop/platform';
import { z } from 'zod';
import { COUPON_QUOTA_ACTOR } from '../events/topics.ts';

const configureBody = z.object({ quota: z.number().int().min(0) });
const claimBody = z.object({ requestId: z.uuid(), userId: z.uuid(), quota: z.number().int().min(0) });

export type ClaimDecision = { accepted: true } | { accepted: false; reason: 'SOLD_OUT' | 'ALREADY_ISSUED' };

export interface QuotaState {
  quota: number;
  issued: number;
}

/**
 * Counts one coupon's first-come-first-served quota. Dapr runs one call at a
 * time per actor id and one activation in the cluster, so read-check-write
 * needs no lock and cannot oversell, and the counters can be held in memory
 * while the actor is active (dropped when Dapr deactivates it).
 *
 * State keys: `quota`, `issued`, `user:<userId>` (the request that got the
 * coupon: one per user) and `req:<requestId>` (the decision, so that a request
 * processed again after a crash gets the same answer and counts once).
 */
const active = new Map<string, QuotaState>();

async function load(actor: ActorContext, quotaIfNew?: number): Promise<QuotaState> {
  let state = active.get(actor.actorId);
  if (!state) {
    const quota = (await actor.getState<number>('quota')) ?? quotaIfNew ?? 0;
    state = { quota, issued: (await actor.getState<number>('issued')) ?? 0 };
    active.set(actor.actorId, state);
  }
  return state;
}

export const couponQuotaActor: ActorType = {
  type: COUPON_QUOTA_ACTOR,
  onDeactivate: (actorId) => active.delete(actorId),
  methods: {
    async configure(actor, body) {
      const { quota } = configureBody.parse(body);
      const state = await load(actor);
      await actor.setState({ quota, issued: state.issued });
      state.quota = quota;
      return { ...state } satisfies QuotaState;
    },
    /** Decides one request; the coupon's quota comes with it, used when the actor is new. */
    async claim(actor, body): Promise<ClaimDecision> {
      const { requestId, userId, quota } = claimBody.parse(body);
      const earlier = await actor.getState<ClaimDecision>(`req:${requestId}`);
      if (earlier) return earlier;
      const state = await load(actor, quota);
      let decision: ClaimDecision;
      if (await actor.getState<string>(`user:${userId}`))
        decision = { accepted: false, reason: 'ALREADY_ISSUED' };
      else if (state.issued >= state.quota) decision = { accepted: false, reason: 'SOLD_OUT' };
      else decision = { accepted: true };

      const issued = decision.accepted ? state.issued + 1 : state.issued;
      await actor.setState({
        quota: state.quota,
        issued,
        [`req:${requestId}`]: decision,
        ...(decision.accepted ? { [`user:${userId}`]: requestId } : {}),
      });
      // Only after the state store took it: a failed save leaves memory as it was.
      state.issued = issued;
      return decision;
    },
    async status(actor) {
      const state = await load(actor);
      return { ...state } satisfies QuotaState;
    },
  },
};
