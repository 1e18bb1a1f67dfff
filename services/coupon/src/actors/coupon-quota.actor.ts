import type { ActorType } from '@shop/platform';
import { z } from 'zod';
import { COUPON_QUOTA_ACTOR } from '../events/topics.ts';

const configureBody = z.object({ quota: z.number().int().min(0) });

export interface QuotaState {
  quota: number;
  issued: number;
}

/**
 * Counts one coupon's first-come-first-served quota. Dapr runs one call at a
 * time per actor id, so read-check-write needs no lock and cannot oversell.
 */
export const couponQuotaActor: ActorType = {
  type: COUPON_QUOTA_ACTOR,
  methods: {
    async configure(actor, body) {
      const { quota } = configureBody.parse(body);
      const issued = (await actor.getState<number>('issued')) ?? 0;
      await actor.setState({ quota, issued });
      return { quota, issued } satisfies QuotaState;
    },
    async claim(actor) {
      const quota = (await actor.getState<number>('quota')) ?? 0;
      const issued = (await actor.getState<number>('issued')) ?? 0;
      if (issued >= quota) return { accepted: false, quota, issued };
      await actor.setState({ issued: issued + 1 });
      return { accepted: true, quota, issued: issued + 1 };
    },
    async status(actor) {
      return {
        quota: (await actor.getState<number>('quota')) ?? 0,
        issued: (await actor.getState<number>('issued')) ?? 0,
      } satisfies QuotaState;
    },
  },
};
