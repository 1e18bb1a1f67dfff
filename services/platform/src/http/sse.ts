import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'koa';

export interface SseOptions<T> {
  /** Reads the current state (it may throw: the last state is kept). */
  read: () => Promise<T>;
  /** A final state: sent, then the stream ends. */
  isFinal: (state: T) => boolean;
  /** The SSE `event:` name. */
  event: string;
  /** What counts as a change (default: any difference in the JSON). */
  changeKey?: (state: T) => string;
  pollMs?: number;
  /** A stream lasts at most this long; the client reconnects (EventSource does by itself). */
  maxMs?: number;
  /** A comment line this often while nothing changes, so that proxies keep an idle stream open. */
  heartbeatMs?: number;
}

/** The event id of a state: the same state has the same id on any replica, so a reconnect can say what it has. */
const eventId = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 16);

/**
 * Answers with a server-sent event stream: the state at once, then one event
 * each time it changes, until it is final, the client leaves, or `maxMs`.
 * Polling keeps it simple and correct across replicas (any replica can serve
 * any stream); the interval bounds the delay. Each event carries the id of its
 * state: a client that reconnects with `Last-Event-ID` (EventSource does) is
 * not sent again the state it has, only what comes after it (204 when it has
 * the final one). A comment line
 * every `heartbeatMs` keeps an idle stream open through proxies.
 */
export async function streamChanges<T>(ctx: Context, options: SseOptions<T>): Promise<void> {
  const keyOf = options.changeKey ?? ((state: T) => JSON.stringify(state));
  let last = await options.read();
  let lastKey = keyOf(last);
  const resumedAt = ctx.get('last-event-id');
  if (options.isFinal(last) && resumedAt === eventId(lastKey)) {
    // The client has the final state: nothing more will come, and a 204 stops EventSource reconnecting.
    ctx.status = 204;
    return;
  }
  const stream = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.set({ 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  ctx.type = 'text/event-stream';
  ctx.body = stream;
  let lastWrite = Date.now();
  const write = (text: string) => {
    lastWrite = Date.now();
    stream.write(text);
  };
  const send = (state: T, key: string) =>
    write(`id: ${eventId(key)}\nevent: ${options.event}\ndata: ${JSON.stringify(state)}\n\n`);
  if (resumedAt !== eventId(lastKey)) send(last, lastKey);
  if (options.isFinal(last)) {
    stream.end();
    return;
  }
  let closed = false;
  ctx.req.once('close', () => {
    closed = true;
  });
  const started = Date.now();
  void (async () => {
    while (!closed && Date.now() - started < (options.maxMs ?? 60_000)) {
      await sleep(options.pollMs ?? 250);
      const now = await options.read().catch(() => last);
      const nowKey = keyOf(now);
      if (nowKey !== lastKey) {
        last = now;
        lastKey = nowKey;
        send(now, nowKey);
      } else if (Date.now() - lastWrite >= (options.heartbeatMs ?? 15_000)) {
        write(': heartbeat\n\n');
      }
      if (options.isFinal(now)) break;
    }
    stream.end();
  })();
}
