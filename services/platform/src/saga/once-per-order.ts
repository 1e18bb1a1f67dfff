import type { EntityManager } from '@mikro-orm/postgresql';
import { lockForTransaction } from '../db/orm.ts';

/** Where one order's step stands at a saga participant, as its own records say. */
export type Standing<Done, Undone> =
  | { state: 'none' }
  | { state: 'done'; done: Done }
  | { state: 'undone'; undone: Undone };

/**
 * The saga participants' rule for one order's step (coupon use, stock, points),
 * in the caller's transaction and under the order's lock (`key`), so that a
 * step and its undo never race: `stand` reads what the participant recorded.
 *
 * Forward: a repeat replays what was done; once undone — before the step ran
 * (the compensation came first) or after it (a re-run of a half-compensated
 * saga) — it is refused, so an undone step stays undone; otherwise it runs.
 */
export async function forwardOnce<Done, Undone, R>(
  tx: EntityManager,
  key: string,
  stand: () => Promise<Standing<Done, Undone>>,
  on: { replay: (done: Done) => R | Promise<R>; refuse: (undone: Undone) => Error; run: () => Promise<R> },
): Promise<R> {
  await lockForTransaction(tx, key);
  const standing = await stand();
  if (standing.state === 'done') return on.replay(standing.done);
  if (standing.state === 'undone') throw on.refuse(standing.undone);
  return on.run();
}

/**
 * Undo: a repeat replays the undo; before the step ran it leaves a tombstone
 * (which makes a late forward refused); otherwise it undoes what was done, once.
 */
export async function undoOnce<Done, Undone, R>(
  tx: EntityManager,
  key: string,
  stand: () => Promise<Standing<Done, Undone>>,
  on: {
    replay: (undone: Undone) => R | Promise<R>;
    tombstone: () => Promise<R>;
    run: (done: Done) => Promise<R>;
  },
): Promise<R> {
  await lockForTransaction(tx, key);
  const standing = await stand();
  if (standing.state === 'undone') return on.replay(standing.undone);
  if (standing.state === 'none') return on.tombstone();
  return on.run(standing.done);
}
