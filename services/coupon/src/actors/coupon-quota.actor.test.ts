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

const claim = async (actor: ActorContext, quota: number, userId = randomUUID(), requestId = randomUUID()) => {
  const { decisions } = (await couponQuotaActor.methods.claimBatch!(actor, {
    quota,
    claims: [{ requestId, userId }],
  })) as { decisions: ClaimDecision[] };
  return decisions[0];
};
const status = (actor: ActorContext) => couponQuotaActor.methods.status!(actor, {}) as Promise<QuotaState>;

describe('CouponQuotaActor', () => {
  test('When the actor comes back to a host after another host issued coupons, then it counts from the state store and knows their holders', async () => {
    const store: Store = new Map();
    const id = randomUUID();
    const hostA = onHost(store, id);
    expect(await claim(hostA, 3)).toEqual({ accepted: true });
    // Placement moved the actor to another replica (another process), which issued
    // the other two without this host hearing of it: only the state store saw it.
    const elsewhere = randomUUID();
    const meta = store.get('meta') as { chunks: number };
    store.set(`holders:${meta.chunks}`, { [elsewhere]: randomUUID() });
    store.set('meta', { quota: 3, issued: 2, chunks: meta.chunks + 1, version: randomUUID() });
    // And back on host A, whose memory still holds one issued coupon.
    expect(await claim(hostA, 3, elsewhere)).toEqual({ accepted: false, reason: 'ALREADY_ISSUED' });
    expect(await claim(hostA, 3)).toEqual({ accepted: true });
    expect(await claim(hostA, 3)).toEqual({ accepted: false, reason: 'SOLD_OUT' });
    expect(await status(hostA)).toEqual({ quota: 3, issued: 3 });
  });

  test('When one turn decides a batch, then claims are decided in order: the quota goes to the first, a user counts once, a repeated request gets its first answer', async () => {
    const actor = onHost(new Map(), randomUUID());
    const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()];
    const r1 = randomUUID();
    const { decisions } = (await couponQuotaActor.methods.claimBatch!(actor, {
      quota: 2,
      claims: [
        { requestId: r1, userId: u1 },
        { requestId: randomUUID(), userId: u1 },
        { requestId: randomUUID(), userId: u2 },
        { requestId: randomUUID(), userId: u3 },
        { requestId: r1, userId: u1 },
      ],
    })) as { decisions: ClaimDecision[] };
    expect(decisions).toEqual([
      { accepted: true },
      { accepted: false, reason: 'ALREADY_ISSUED' },
      { accepted: true },
      { accepted: false, reason: 'SOLD_OUT' },
      { accepted: true },
    ]);
    expect(await status(actor)).toEqual({ quota: 2, issued: 2 });
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
