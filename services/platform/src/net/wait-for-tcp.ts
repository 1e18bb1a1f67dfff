import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TcpAddress {
  host: string;
  port: number;
}

/** Parses `host:port` (IPv6 in brackets: `[::1]:5432`). */
export function parseAddress(text: string): TcpAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new Error(`not a host:port address: ${text}`);
  return { host: (match[1] ?? match[2])!, port };
}

function answers({ host, port }: TcpAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves once every address accepts a TCP connection; rejects after
 * `timeoutMs` naming those that never did. `onWaiting` hears, every few
 * seconds, which ones it still waits for.
 */
export async function waitForTcp(
  addresses: TcpAddress[],
  options: { timeoutMs: number; intervalMs?: number; onWaiting?: (pending: string[]) => void },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 1000;
  let pending = addresses;
  for (let round = 0; ; round++) {
    const results = await Promise.all(pending.map((a) => answers(a, Math.min(interval * 2, 3000))));
    pending = pending.filter((_, i) => !results[i]);
    if (pending.length === 0) return;
    const names = pending.map((a) => `${a.host}:${a.port}`);
    if (Date.now() >= deadline)
      throw new Error(`no answer within ${options.timeoutMs} ms from ${names.join(', ')}`);
    if (round % 5 === 0) options.onWaiting?.(names);
    await sleep(interval);
  }
}
