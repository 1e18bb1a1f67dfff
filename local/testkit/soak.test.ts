import { describe, expect, test } from '@jest/globals';
import { type Series, soakRetentionSeconds, verdicts } from './soak.ts';

const series = (kind: Series['kind'], values: number[]): Series => ({
  name: 'x',
  panel: 'p',
  kind,
  unit: 'u',
  values,
});

describe('the soak’s verdict on a series', () => {
  test('When a series levels off after the warm-up, however steep its start, then it is flat', () => {
    const [v] = verdicts([series('kept', [50, 120, 180, 200, 202, 199, 203, 201, 204])]);
    expect(v).toMatchObject({ level: 200, end: 203, grew: false });
  });

  test('When a heap saws up and down with its collections, then its floor is what is judged', () => {
    const sawtooth = [100, 150, 200, 120, 190, 260, 125, 200, 270];
    expect(verdicts([series('memory', sawtooth)])[0]).toMatchObject({ level: 120, end: 125, grew: false });
    const risingFloor = [100, 150, 200, 120, 190, 260, 180, 240, 300];
    expect(verdicts([series('memory', risingFloor)])[0]!.grew).toBe(true);
  });

  test('When memory steps up once and then holds flat, then it did not grow; when it still climbs at the end, it did', () => {
    // The product service in the 20-minute run: a floor of 166 MB, one step to 263, then flat.
    const stepThenFlat = [
      162, 211, 165, 183, 209, 212, 166, 182, 208, 211, 237, 261, 263, 263, 264, 265, 265, 265,
    ];
    expect(verdicts([series('memory', stepThenFlat)])[0]).toMatchObject({
      level: 166,
      end: 263,
      grew: false,
    });
    // Zipkin's uncapped in-memory store in the same run.
    const climbing = [
      167, 197, 219, 231, 241, 269, 269, 290, 308, 308, 326, 360, 360, 398, 398, 429, 429, 495,
    ];
    expect(verdicts([series('memory', climbing)])[0]!.grew).toBe(true);
  });

  test('When memory keeps rising past 20 % (and the 10 MB slack) after the warm-up, then it grew', () => {
    expect(verdicts([series('memory', [100, 110, 120, 200, 210, 220, 260, 270, 280])])[0]!.grew).toBe(true);
    // The slack: a small process wobbling by a few MB is not a leak.
    expect(verdicts([series('memory', [20, 20, 20, 20, 21, 20, 29, 29, 30])])[0]!.grew).toBe(false);
  });

  test('When the run is too short to judge memory, then memory is shown but not held against it, and the rest still is', () => {
    const rising = series('memory', [100, 110, 120, 200, 210, 220, 260, 270, 280]);
    const linear = series(
      'kept',
      Array.from({ length: 9 }, (_, i) => 100 * (i + 1)),
    );
    const [memory, kept] = verdicts([rising, linear], { judgeMemory: false });
    expect(memory).toMatchObject({ judged: false, grew: false });
    expect(kept).toMatchObject({ judged: true, grew: true });
  });

  test('When rows kept for a retention grow with the run instead of levelling off, then they grew', () => {
    const linear = Array.from({ length: 18 }, (_, i) => 100 * (i + 1));
    expect(verdicts([series('kept', linear)])[0]!.grew).toBe(true);
    const swept = [100, 200, 300, 350, 340, 360, 355, 345, 350, 360, 350, 348];
    expect(verdicts([series('kept', swept)])[0]!.grew).toBe(false);
  });

  test('A short run keeps what it sweeps long enough to see a plateau, and an hour’s keeps 10 minutes', () => {
    expect(soakRetentionSeconds(3)).toBe(30);
    expect(soakRetentionSeconds(60)).toBe(600);
  });
});
