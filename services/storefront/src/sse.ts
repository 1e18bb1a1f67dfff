import { authHeaders } from './api.ts';
import { SseParser } from './sse-parser.ts';

/**
 * Follows one of the gateway's server-sent event streams (an order, a coupon
 * request) until `isFinal` says the state is final. EventSource cannot send
 * the bearer token, so this reads the stream with fetch. When the server ends
 * a stream early (its streams last at most a minute or two) or the network
 * blinks, it connects again with the last event's id, as EventSource does:
 * the server sends the current state only if it is not that one.
 */
export function followStream<T>(
  path: string,
  onState: (state: T) => void,
  isFinal: (state: T) => boolean,
  /** The stream was refused (not yours, not found): following it again would not help. */
  onRefused: (status: number) => void = () => undefined,
): { stop: () => void } {
  const stopped = new AbortController();
  void (async () => {
    let failures = 0;
    let lastEventId = '';
    while (!stopped.signal.aborted) {
      try {
        const res = await fetch(path, {
          headers: {
            ...authHeaders(),
            accept: 'text/event-stream',
            ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
          },
          signal: stopped.signal,
        });
        // The final state is the one we have: nothing more will come.
        if (res.status === 204) return;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          onRefused(res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        failures = 0;
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            lastEventId = event.id;
            const state = JSON.parse(event.data) as T;
            onState(state);
            if (isFinal(state)) {
              stopped.abort();
              return;
            }
          }
        }
      } catch (err) {
        if (stopped.signal.aborted) return;
        failures++;
        console.error('stream interrupted', err);
      }
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** failures, 5000)));
    }
  })();
  return { stop: () => stopped.abort() };
}
