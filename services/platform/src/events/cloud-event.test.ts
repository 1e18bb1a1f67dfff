import { describe, expect, test } from '@jest/globals';
import { newEvent, uuidv7 } from './cloud-event.ts';

describe('uuidv7', () => {
  test('When ids are made one after the other, even in one millisecond, then they sort in that order', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect(new Set(ids.map((id) => id.slice(0, 13))).size).toBeLessThan(ids.length); // some share a millisecond
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('newEvent', () => {
  test('When an event is made, then it gets a fresh id and a UTC time', () => {
    const a = newEvent({ topic: 't', type: 'X', source: 's', subject: 'agg', data: { id: 'agg' } });
    const b = newEvent({ topic: 't', type: 'X', source: 's', subject: 'agg', data: { id: 'agg' } });
    expect(a.id).not.toBe(b.id);
    expect(a.time).toMatch(/Z$/);
  });
});
