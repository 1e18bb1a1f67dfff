import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Koa from 'koa';
import { streamChanges } from '../src/http/sse.ts';

/** A stream of a counter that the test moves; final at 3. */
let state = { n: 0 };
let server: ReturnType<Koa['listen']>;
let base: string;

beforeAll(async () => {
  const app = new Koa();
  app.use((ctx) =>
    streamChanges(ctx, {
      read: async () => state,
      isFinal: (s) => s.n >= 3,
      event: 'counter',
      pollMs: 20,
      heartbeatMs: 100,
      maxMs: 2_000,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

/** Reads the stream for `ms` (or to its end): the raw text. */
async function readFor(ms: number, headers: Record<string, string> = {}) {
  const res = await fetch(base, { headers, signal: AbortSignal.timeout(ms) });
  let text = '';
  try {
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) text += chunk;
  } catch {}
  return { status: res.status, text };
}
const ids = (text: string) => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
const data = (text: string) => [...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!).n);

describe('streamChanges', () => {
  test('When the state stays the same, then each event has its state’s id and the idle stream gets heartbeats', async () => {
    state = { n: 1 };
    const { text } = await readFor(350);
    expect(data(text)).toEqual([1]);
    expect(ids(text)).toHaveLength(1);
    expect(text.match(/^: heartbeat$/gm)?.length).toBeGreaterThanOrEqual(2);
  });

  test('When a client reconnects with Last-Event-ID, then the state it has is not sent again, only what follows', async () => {
    state = { n: 1 };
    const first = await readFor(100);
    const [id] = ids(first.text);
    setTimeout(() => {
      state = { n: 2 };
    }, 150);
    const again = await readFor(400, { 'last-event-id': id! });
    expect(data(again.text)).toEqual([2]);
    expect(ids(again.text)[0]).not.toBe(id);
  });

  test('When the client already has the final state, then it is answered 204 and nothing is sent', async () => {
    state = { n: 3 };
    const final = await readFor(500);
    expect(data(final.text)).toEqual([3]);
    const again = await readFor(500, { 'last-event-id': ids(final.text)[0]! });
    expect(again).toEqual({ status: 204, text: '' });
  });
});
