import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from '@jest/globals';
import { type FaultyLink, startFaultProxy } from './fault-proxy.ts';

const HOST = '127.0.0.1';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server that echoes what it gets, and a fault proxy with one link to it. */
async function echoBehindProxy(): Promise<{ link: FaultyLink; controlUrl: string; server: net.Server }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as net.AddressInfo).port;
  const proxy = await startFaultProxy([{ name: 'a→echo', port: 0, target: { host: HOST, port } }], HOST, 0);
  closers.push(proxy.close);
  return { link: proxy.links[0]!, controlUrl: proxy.controlUrl, server };
}

/** A client of the link: what it has received so far, and whether its connection was reset. */
async function client(port: number) {
  const socket = net.connect({ host: HOST, port });
  const got = { text: '', reset: false, closed: false };
  socket.on('data', (chunk) => {
    got.text += chunk.toString();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET') got.reset = true;
  });
  socket.on('close', () => {
    got.closed = true;
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  closers.push(async () => void socket.destroy());
  return { socket, got };
}

const until = async (what: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await sleep(10);
  return what();
};

describe('the fault proxy of the chaos suite', () => {
  test('With no fault, what a client sends reaches the server and its answer comes back', async () => {
    const { link } = await echoBehindProxy();
    const { socket, got } = await client(link.port);
    socket.write('hello');
    expect(await until(() => got.text === 'hello')).toBe(true);
  });

  test('With latency and jitter, every chunk is delayed each way, and the bytes stay in order', async () => {
    const { link } = await echoBehindProxy();
    link.set({ latencyMs: 150, jitterMs: 100, resetChance: 0, partitioned: false });
    const { socket, got } = await client(link.port);
    const sent = Array.from({ length: 40 }, (_, i) => `${i};`);
    const started = Date.now();
    for (const part of sent) {
      socket.write(part);
      await sleep(2);
    }
    expect(await until(() => got.text.length === sent.join('').length)).toBe(true);
    expect(got.text).toBe(sent.join(''));
    // There and back: at least twice the latency less the jitter.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * (150 - 100));
  });

  test('When the link is cut, nothing passes and a new connection waits; once healed, all that was sent arrives on the same connections', async () => {
    const { link } = await echoBehindProxy();
    const before = await client(link.port);
    link.set({ latencyMs: 0, jitterMs: 0, resetChance: 0, partitioned: true });
    before.socket.write('during');
    const during = await client(link.port);
    during.socket.write('new');
    await sleep(300);
    expect(before.got.text).toBe('');
    expect(during.got.text).toBe('');
    link.set({ latencyMs: 0, jitterMs: 0, resetChance: 0, partitioned: false });
    expect(await until(() => before.got.text === 'during' && during.got.text === 'new')).toBe(true);
    expect(before.got.reset || during.got.reset).toBe(false);
  });

  test('With resets, a connection that carries a chunk is reset', async () => {
    const { link } = await echoBehindProxy();
    link.set({ latencyMs: 0, jitterMs: 0, resetChance: 1, partitioned: false });
    const { socket, got } = await client(link.port);
    socket.write('x');
    expect(await until(() => got.reset && got.closed)).toBe(true);
    expect(got.text).toBe('');
    expect(await until(() => link.connections === 0)).toBe(true);
  });

  test('When the server refuses, so is its client', async () => {
    const { link, server } = await echoBehindProxy();
    await new Promise((resolve) => server.close(resolve));
    const { got } = await client(link.port);
    expect(await until(() => got.closed)).toBe(true);
  });

  test('Its control sets a fault on the links a name matches, and refuses a malformed fault or an unknown link', async () => {
    const { link, controlUrl } = await echoBehindProxy();
    const put = (body: unknown) =>
      fetch(`${controlUrl}/faults`, { method: 'PUT', body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    expect(await put({ match: '→echo', fault: { latencyMs: 300, jitterMs: 100 } })).toEqual({
      status: 200,
      body: ['a→echo'],
    });
    expect(link.fault).toEqual({ latencyMs: 300, jitterMs: 100, resetChance: 0, partitioned: false });
    expect((await put({ match: '→echo', fault: { resetChance: 2 } })).status).toBe(422);
    expect((await put({ match: '→echo', fault: { partitioned: 'yes' } })).status).toBe(422);
    expect((await put({ match: '', fault: {} })).status).toBe(422);
    expect((await put({ match: 'nowhere', fault: {} })).status).toBe(404);
    // A refused request changed nothing.
    expect(link.fault.latencyMs).toBe(300);
  });
});
