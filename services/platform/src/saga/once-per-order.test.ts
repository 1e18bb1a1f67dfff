import { describe, expect, test } from '@jest/globals';
import type { EntityManager } from '@mikro-orm/postgresql';
import { forwardOnce, type Standing, undoOnce } from './once-per-order.ts';

/** A transaction that records its statements (the lock) and the helper's calls, in order. */
function harness(standing: Standing<string, string>) {
  const calls: string[] = [];
  const tx = {
    execute: async (query: string, params: unknown[]) => {
      calls.push(`${query} ${JSON.stringify(params)}`);
      return [];
    },
  } as unknown as EntityManager;
  const stand = async () => {
    calls.push('stand');
    return standing;
  };
  return { tx, stand, calls };
}

const forward = (h: ReturnType<typeof harness>) =>
  forwardOnce(h.tx, 'stock:o-1', h.stand, {
    replay: (done) => `replayed ${done}`,
    refuse: (undone) => new Error(`refused after ${undone}`),
    run: async () => {
      h.calls.push('run');
      return 'ran';
    },
  });

const undo = (h: ReturnType<typeof harness>) =>
  undoOnce(h.tx, 'stock:o-1', h.stand, {
    replay: (undone) => `replayed ${undone}`,
    tombstone: async () => {
      h.calls.push('tombstone');
      return 'tombstone';
    },
    run: async (done) => {
      h.calls.push(`undo ${done}`);
      return 'undone';
    },
  });

describe('forwardOnce', () => {
  test('When the step never ran, then it runs, after the order is locked and its standing read', async () => {
    const h = harness({ state: 'none' });
    expect(await forward(h)).toBe('ran');
    expect(h.calls).toEqual(['select pg_advisory_xact_lock(hashtext(?)) ["stock:o-1"]', 'stand', 'run']);
  });

  test('When it was done, then a repeat replays it and runs nothing', async () => {
    const h = harness({ state: 'done', done: 'deducted' });
    expect(await forward(h)).toBe('replayed deducted');
    expect(h.calls).not.toContain('run');
  });

  test('When it was undone, before or after it ran, then it is refused and runs nothing', async () => {
    const h = harness({ state: 'undone', undone: 'restored' });
    await expect(forward(h)).rejects.toThrow('refused after restored');
    expect(h.calls).not.toContain('run');
  });
});

describe('undoOnce', () => {
  test('When the step never ran, then a tombstone is left', async () => {
    const h = harness({ state: 'none' });
    expect(await undo(h)).toBe('tombstone');
    expect(h.calls.at(-1)).toBe('tombstone');
  });

  test('When it was done, then what was done is undone', async () => {
    const h = harness({ state: 'done', done: 'deducted' });
    expect(await undo(h)).toBe('undone');
    expect(h.calls.at(-1)).toBe('undo deducted');
  });

  test('When it was undone already, then a repeat replays the undo and undoes nothing again', async () => {
    const h = harness({ state: 'undone', undone: 'restored' });
    expect(await undo(h)).toBe('replayed restored');
    expect(h.calls.some((c) => c.startsWith('undo') || c === 'tombstone')).toBe(false);
  });
});
