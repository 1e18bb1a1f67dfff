import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from '@jest/globals';
import { waitForTcp } from '../src/net/wait-for-tcp.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

const freePort = async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
};

describe('waitForTcp', () => {
  test('When the server starts listening later, then it resolves once it answers', async () => {
    const port = await freePort();
    const waited: string[][] = [];
    const waiting = waitForTcp([{ host: '127.0.0.1', port }], {
      timeoutMs: 10_000,
      intervalMs: 100,
      onWaiting: (pending) => waited.push(pending),
    });
    await sleep(400);
    server = createServer((s) => s.destroy());
    server.listen(port, '127.0.0.1');
    await expect(waiting).resolves.toBeUndefined();
    expect(waited[0]).toEqual([`127.0.0.1:${port}`]);
  });

  test('When an address never answers, then it rejects naming only that one', async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const up = (server.address() as { port: number }).port;
    const down = await freePort();
    await expect(
      waitForTcp(
        [
          { host: '127.0.0.1', port: up },
          { host: '127.0.0.1', port: down },
        ],
        { timeoutMs: 500, intervalMs: 100 },
      ),
    ).rejects.toThrow(`no answer within 500 ms from 127.0.0.1:${down}`);
  });
});
