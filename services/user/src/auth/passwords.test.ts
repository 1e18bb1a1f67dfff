import { describe, expect, test } from '@jest/globals';
import { PasswordWorkBusyError } from './auth.errors.ts';
import { PasswordWork } from './passwords.ts';

/** A piece of work that ends when the test says so, counting how many run at once. */
function held(counter: { now: number; most: number }) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const work = async () => {
    counter.now++;
    counter.most = Math.max(counter.most, counter.now);
    await done;
    counter.now--;
    return 'hashed';
  };
  return { work, release };
}

describe('the bound on password work', () => {
  test('When more sign-ins come than may hash at once and wait, then the excess is refused at once and the rest run in turn, never more at once than allowed', async () => {
    const bound = new PasswordWork(2, 1);
    const counter = { now: 0, most: 0 };
    const jobs = [held(counter), held(counter), held(counter)];
    const running = jobs.map((j) => bound.run(j.work));
    await expect(bound.run(held(counter).work)).rejects.toBeInstanceOf(PasswordWorkBusyError);
    for (const j of jobs) j.release();
    await expect(Promise.all(running)).resolves.toEqual(['hashed', 'hashed', 'hashed']);
    expect(counter.most).toBe(2);
    // Free again: nothing waits, nothing is refused.
    const again = held(counter);
    const last = bound.run(again.work);
    again.release();
    await expect(last).resolves.toBe('hashed');
  });
});
