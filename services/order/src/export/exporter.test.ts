import { describe, expect, test } from '@jest/globals';
import { RecordRefusedError, retryDelay } from './exporter.ts';

const options = { attempts: 6, firstBackoffMs: 1000, maxBackoffMs: 5000 };

describe('the export’s retries', () => {
  test('When sends fail, then the waits double from the first backoff up to the cap, and the record is DEAD after its last attempt', () => {
    const failure = new Error('the data platform answered 503');
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(attempt, failure, options))).toEqual([
      1000,
      2000,
      4000,
      5000,
      5000,
      null,
    ]);
  });

  test('When the platform refuses a record, then it is DEAD at once: no retry changes a refusal', () => {
    expect(retryDelay(1, new RecordRefusedError('the data platform answered 422'), options)).toBeNull();
  });
});
