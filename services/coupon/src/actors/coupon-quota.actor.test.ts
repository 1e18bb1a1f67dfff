import { randomUUID } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import type { ActorContext } from '@shop/platform';
import { type ClaimDecision, couponQuotaActor, type QuotaState } from './coupon-quota.actor.ts';

/** One actor's keys in the state store, shared by every host the actor lands on. */
type Store = Map<string, unknown>;

/** The actor as one host sees it; `failAfterSave` makes the next save apply and then report an error. */
function onHost(store: Store, actorId: string, faults: { failAfterSave?: boolean } = {}): ActorContext {
  return {
    actorType: couponQuotaActor.type,
    actorId,
    sidecar: undefined as never,
    log: undefined as never,
    getState: async <T>(key: string) => store.get(key) as T | undefined,
    setState: async (values) => {
      for (const [key, value] of Object.entries(values)) store.set(key, value);
      if (faults.failAfterSave) {
        faults.failAfterSave = false;
        throw new Error('state store timed out');
      }
    },
  };
}

const claim = (actor: ActorContext, quota: number, userId = randomUUID(), requestId = randomUUID()) =>
  couponQuotaActor.methods.claim!(actor, { requestId, userId, quota }) as Promise<ClaimDecision>;
const status = (actor: ActorContext) => couponQuotaActor.methods.status!(actor, {}) as Promise<QuotaState>;

describe('CouponQuotaActor', () => {
  test('When the actor comes back to a host after another host issued coupons, then it counts from the state store', async () => {
    const store: Store = new Map();
    const id = randomUUID();
    const hostA = onHost(store, id);
    expect(await claim(hostA, 3)).toEqual({ accepted: true });
    // Placement moved the actor to another replica (another process), which issued
    // the other two without this host hearing of it: only the state store saw it.
    store.set('issued', 3);
    store.set(`user:${randomUUID()}`, randomUUID());
    store.set(`user:${randomUUID()}`, randomUUID());
    // And back on host A.
    expect(await claim(hostA, 3)).toEqual({ accepted: false, reason: 'SOLD_OUT' });
    expect(await status(hostA)).toEqual({ quota: 3, issued: 3 });
  });

  test('When a save reports a failure but was applied, then the next claim does not count from before it', async () => {
    const store: Store = new Map();
    const faults = { failAfterSave: true };
    const actor = onHost(store, randomUUID(), faults);
    const first = { userId: randomUUID(), requestId: randomUUID() };
    await expect(claim(actor, 1, first.userId, first.requestId)).rejects.toThrow('timed out');
    expect(await claim(actor, 1)).toEqual({ accepted: false, reason: 'SOLD_OUT' });
    // The retry of the ambiguous claim gets the decision that was saved.
    expect(await claim(actor, 1, first.userId, first.requestId)).toEqual({ accepted: true });
    expect(await status(actor)).toEqual({ quota: 1, issued: 1 });
  });

  test('When a request is claimed again, or its user asks again, then it counts once', async () => {
    const actor = onHost(new Map(), randomUUID());
    const userId = randomUUID();
    const requestId = randomUUID();
    expect(await claim(actor, 5, userId, requestId)).toEqual({ accepted: true });
    expect(await claim(actor, 5, userId, requestId)).toEqual({ accepted: true });
    expect(await claim(actor, 5, userId)).toEqual({ accepted: false, reason: 'ALREADY_ISSUED' });
    expect(await status(actor)).toEqual({ quota: 5, issued: 1 });
  });

  test('When the quota is configured again, then the count so far is kept', async () => {
    const actor = onHost(new Map(), randomUUID());
    await claim(actor, 1);
    expect(await couponQuotaActor.methods.configure!(actor, { quota: 2 })).toEqual({ quota: 2, issued: 1 });
    expect(await claim(actor, 1)).toEqual({ accepted: true });
    expect(await claim(actor, 1)).toEqual({ accepted: false, reason: 'SOLD_OUT' });
  });
});
