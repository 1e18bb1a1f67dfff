import { randomUUID } from 'node:crypto';
import type { ActorContext, ActorType } from '@shop/platform';
import { z } from 'zod';
import { COUPON_QUOTA_ACTOR } from '../events/topics.ts';

const configureBody = z.object({ quota: z.number().int().min(0) });
const claim = z.object({ requestId: z.uuid(), userId: z.uuid() });
/** A batch is bounded so that one turn (and its one state save) stays small. */
export const MAX_CLAIMS_PER_TURN = 1000;
const claimBatchBody = z.object({
  quota: z.number().int().min(0),
  claims: z.array(claim).min(1).max(MAX_CLAIMS_PER_TURN),
});

export type ClaimDecision = { accepted: true } | { accepted: false; reason: 'SOLD_OUT' | 'ALREADY_ISSUED' };
export type ClaimBatchInput = z.infer<typeof claimBatchBody>;

export interface QuotaState {
  quota: number;
  issued: number;
}

/**
 * What one save wrote: the counters, how many holder chunks exist, and a
 * token that changes with every save (see `Holders`).
 */
interface Meta extends QuotaState {
  chunks: number;
  version: string;
}

/** The coupon's holders: user id → the request that got it. */
type Holders = Map<string, string>;

/**
 * Counts one coupon's first-come-first-served quota. Dapr runs one call at a
 * time per actor id and one activation in the cluster, so read-check-write
 * needs no lock. One turn decides a batch of claims (`claimBatch`), in the
 * order given, with one read and at most one save of the state store.
 *
 * State keys: `meta` (quota, issued, the number of holder chunks, a version
 * token) and `holders:<n>` (the users one turn accepted, each with the request
 * that got the coupon). All keys of one turn are saved in one state store
 * transaction. A decision is a function of the holders and the count: a
 * request asked again after a crash gets the same answer and counts once (its
 * user holds it through this very request: accepted; through another:
 * ALREADY_ISSUED; the count never goes down: SOLD_OUT stays SOLD_OUT).
 *
 * The holders are kept in memory between turns, but only trusted while the
 * stored `meta.version` is the one this host last saved: every turn reads
 * `meta` first. An actor that moved to another host and back (placement
 * rebalances, a sidecar dies), or a save that failed but was applied, changes
 * the version, and the holders are read again from the state store. A stale
 * cache cannot oversell: the count always comes from the store.
 */
const cache = new Map<string, { version: string; holders: Holders }>();

async function readMeta(actor: ActorContext, quotaIfNew = 0): Promise<Meta & { isNew: boolean }> {
  const meta = await actor.getState<Meta>('meta');
  if (meta) return { ...meta, isNew: false };
  return { quota: quotaIfNew, issued: 0, chunks: 0, version: '', isNew: true };
}

async function readHolders(actor: ActorContext, meta: Meta): Promise<Holders> {
  const known = cache.get(actor.actorId);
  if (known && known.version === meta.version) return known.holders;
  const chunks = await Promise.all(
    Array.from({ length: meta.chunks }, (_, n) => actor.getState<Record<string, string>>(`holders:${n}`)),
  );
  return new Map(chunks.flatMap((chunk) => Object.entries(chunk ?? {})));
}

async function decideBatch(actor: ActorContext, input: ClaimBatchInput): Promise<ClaimDecision[]> {
  const meta = await readMeta(actor, input.quota);
  const holders = await readHolders(actor, meta);
  let issued = meta.issued;
  const added: Record<string, string> = {};
  const decisions = input.claims.map(({ requestId, userId }): ClaimDecision => {
    const holder = holders.get(userId) ?? added[userId];
    if (holder === requestId) return { accepted: true };
    if (holder) return { accepted: false, reason: 'ALREADY_ISSUED' };
    if (issued >= meta.quota) return { accepted: false, reason: 'SOLD_OUT' };
    issued += 1;
    added[userId] = requestId;
    return { accepted: true };
  });
  const accepted = Object.keys(added).length;
  if (accepted === 0 && !meta.isNew) return decisions; // nothing changed: refusals are derived, not stored
  const next: Meta = {
    quota: meta.quota,
    issued,
    chunks: accepted > 0 ? meta.chunks + 1 : meta.chunks,
    version: randomUUID(),
  };
  await actor.setState({ meta: next, ...(accepted > 0 ? { [`holders:${meta.chunks}`]: added } : {}) });
  // Trusted only after the save: a failed one leaves the old version here, so the next turn reads again.
  for (const [userId, requestId] of Object.entries(added)) holders.set(userId, requestId);
  cache.set(actor.actorId, { version: next.version, holders });
  return decisions;
}

export const couponQuotaActor: ActorType = {
  type: COUPON_QUOTA_ACTOR,
  methods: {
    async configure(actor, body) {
      const { quota } = configureBody.parse(body);
      const meta = await readMeta(actor, quota);
      const next: Meta = { quota, issued: meta.issued, chunks: meta.chunks, version: randomUUID() };
      await actor.setState({ meta: next });
      cache.delete(actor.actorId);
      return { quota, issued: meta.issued } satisfies QuotaState;
    },
    /** Decides a batch of requests, in order; the coupon's quota comes with it, used when the actor is new. */
    async claimBatch(actor, body): Promise<{ decisions: ClaimDecision[] }> {
      return { decisions: await decideBatch(actor, claimBatchBody.parse(body)) };
    },
    async status(actor) {
      const { quota, issued } = await readMeta(actor);
      return { quota, issued } satisfies QuotaState;
    },
  },
  onDeactivate: (actorId) => cache.delete(actorId),
};
