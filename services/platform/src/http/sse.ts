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
}

/**
 * Answers with a server-sent event stream: the state at once, then one event
 * each time it changes, until it is final, the client leaves, or `maxMs`.
 * Polling keeps it simple and correct across replicas (any replica can serve
 * any stream); the interval bounds the delay.
 */
export async function streamChanges<T>(ctx: Context, options: SseOptions<T>): Promise<void> {
  const keyOf = options.changeKey ?? ((state: T) => JSON.stringify(state));
  let last = await options.read();
  const stream = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.set({ 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  ctx.type = 'text/event-stream';
  ctx.body = stream;
  const send = (state: T) => stream.write(`event: ${options.event}\ndata: ${JSON.stringify(state)}\n\n`);
  send(last);
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
      if (keyOf(now) !== keyOf(last)) {
        last = now;
        send(now);
      }
      if (options.isFinal(now)) break;
    }
    stream.end();
  })();
}
