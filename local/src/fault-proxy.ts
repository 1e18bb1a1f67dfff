/**
 * A fault proxy of our own for `npm run chaos`: one TCP relay per link (a
 * client's connections to one dependency), which can delay what passes,
 * reset connections at random, or cut the link. The clients are given the
 * relay's port, the servers keep theirs (local/src/topology.ts, faultProxy).
 * It runs as a process of its own, driven over HTTP on loopback.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import net from 'node:net';

export interface LinkFault {
  /** Added to every chunk each way, ± jitterMs; the order of the bytes is kept. */
  latencyMs: number;
  jitterMs: number;
  /** The chance that a chunk resets its connection instead (both ends get an RST). */
  resetChance: number;
  /**
   * Nothing passes and new connections wait, as when packets vanish: the
   * connections live on, and what was sent flows once the link heals, as TCP's
   * retransmissions would deliver it. A socket closed meanwhile is closed on
   * the other side only then.
   */
  partitioned: boolean;
}
const NO_FAULT: LinkFault = { latencyMs: 0, jitterMs: 0, resetChance: 0, partitioned: false };

/** A fault from a control request: what is left out is no fault; anything else malformed throws. */
export function parseFault(body: unknown): LinkFault {
  const given = (body ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object') throw new Error('a fault is an object');
  const number = (key: 'latencyMs' | 'jitterMs' | 'resetChance', max: number) => {
    const v = given[key] ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v <= max))
      throw new Error(`${key} must be a number from 0 to ${max}`);
    return v;
  };
  const partitioned = given.partitioned ?? false;
  if (typeof partitioned !== 'boolean') throw new Error('partitioned must be true or false');
  return {
    latencyMs: number('latencyMs', 60_000),
    jitterMs: number('jitterMs', 60_000),
    resetChance: number('resetChance', 1),
    partitioned,
  };
}

export interface LinkSpec {
  name: string;
  port: number;
  target: { host: string; port: number };
}

type Item = Buffer | 'end' | 'reset';

/** One direction of a connection: what it carries waits here until its time, in order. */
class Lane {
  sink: net.Socket | undefined;
  private readonly queue: { at: number; item: Item }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private readonly link: FaultyLink;

  constructor(link: FaultyLink) {
    this.link = link;
  }

  push(item: Item): void {
    const { latencyMs, jitterMs } = this.link.fault;
    const at = Math.max(
      Date.now() + Math.max(0, latencyMs + jitterMs * (2 * Math.random() - 1)),
      this.lastAt,
    );
    this.lastAt = at;
    this.queue.push({ at, item });
    if (!this.timer) this.pump();
  }

  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sink = this.sink;
    if (!sink || this.link.fault.partitioned) return;
    const now = Date.now();
    while (this.queue.length && this.queue[0]!.at <= now) {
      const { item } = this.queue.shift()!;
      if (item === 'end') sink.end();
      else if (item === 'reset') sink.resetAndDestroy();
      else sink.write(item);
    }
    if (this.queue.length) this.timer = setTimeout(() => this.pump(), this.queue[0]!.at - now);
  }

  drop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** A client's connection and its own to the server. */
class Relay {
  private readonly up: Lane;
  private readonly down: Lane;
  private server: net.Socket | undefined;
  private readonly link: FaultyLink;
  private readonly client: net.Socket;

  constructor(link: FaultyLink, client: net.Socket) {
    this.link = link;
    this.client = client;
    this.up = new Lane(link);
    this.down = new Lane(link);
    this.down.sink = client;
    this.wire(client, this.up);
    if (!link.fault.partitioned) this.connect();
  }

  /** A socket's bytes, its end and its abrupt close go into the lane towards the other side. */
  private wire(socket: net.Socket, lane: Lane): void {
    let ended = false;
    socket.on('data', (chunk: Buffer) => {
      if (Math.random() < this.link.fault.resetChance) this.reset();
      else lane.push(chunk);
    });
    socket.on('end', () => {
      ended = true;
      lane.push('end');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!ended) lane.push('reset');
      if (this.client.destroyed && (!this.server || this.server.destroyed)) this.link.forget(this);
    });
  }

  connect(): void {
    if (this.server || this.client.destroyed) return;
    const server = net.connect({ ...this.link.spec.target, allowHalfOpen: true });
    this.server = server;
    // Refused, it closes without an end: the client is reset, as it would be refused without us.
    this.wire(server, this.down);
    server.once('connect', () => {
      this.up.sink = server;
      this.up.pump();
    });
  }

  resume(): void {
    this.connect();
    this.up.pump();
    this.down.pump();
  }

  reset(): void {
    this.up.drop();
    this.down.drop();
    this.client.resetAndDestroy();
    this.server?.resetAndDestroy();
  }
}

export class FaultyLink {
  fault: LinkFault = NO_FAULT;
  private readonly relays = new Set<Relay>();
  private readonly server = net.createServer({ allowHalfOpen: true }, (socket) =>
    this.relays.add(new Relay(this, socket)),
  );

  readonly spec: LinkSpec;

  constructor(spec: LinkSpec) {
    this.spec = spec;
  }

  listen(host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.spec.port, host, () => resolve());
    });
  }

  /** The port it listens on (the spec's, or the one given for port 0). */
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get connections(): number {
    return this.relays.size;
  }

  set(fault: LinkFault): void {
    const healed = this.fault.partitioned && !fault.partitioned;
    this.fault = fault;
    if (healed) for (const relay of this.relays) relay.resume();
  }

  forget(relay: Relay): void {
    this.relays.delete(relay);
  }

  close(): Promise<void> {
    for (const relay of this.relays) relay.reset();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The links, and their control on `controlPort`: GET /links lists them with
 * their faults, PUT /faults {match, fault} sets the fault of every link whose
 * name contains `match` (and answers their names), GET /healthz.
 */
export async function startFaultProxy(
  specs: LinkSpec[],
  host: string,
  controlPort: number,
): Promise<{ links: FaultyLink[]; controlUrl: string; close: () => Promise<void> }> {
  const links = specs.map((spec) => new FaultyLink(spec));
  await Promise.all(links.map((l) => l.listen(host)));
  const control: HttpServer = createHttpServer(async (req, res) => {
    const answer = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/healthz') return answer(204);
    if (req.method === 'GET' && req.url === '/links')
      return answer(
        200,
        links.map((l) => ({ ...l.spec, fault: l.fault, connections: l.connections })),
      );
    if (req.method === 'PUT' && req.url === '/faults') {
      let match: string;
      let fault: LinkFault;
      try {
        let body = '';
        for await (const chunk of req) body += chunk;
        const parsed = JSON.parse(body) as { match?: unknown; fault?: unknown };
        if (typeof parsed.match !== 'string' || !parsed.match) throw new Error('match must name links');
        match = parsed.match;
        fault = parseFault(parsed.fault);
      } catch (err) {
        return answer(422, { error: (err as Error).message });
      }
      const chosen = links.filter((l) => l.spec.name.includes(match));
      if (!chosen.length) return answer(404, { error: `no link matches ${match}` });
      for (const l of chosen) l.set(fault);
      return answer(
        200,
        chosen.map((l) => l.spec.name),
      );
    }
    answer(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => control.listen(controlPort, host, resolve));
  return {
    links,
    controlUrl: `http://${host}:${(control.address() as net.AddressInfo).port}`,
    close: async () => {
      await new Promise((resolve) => control.close(resolve));
      await Promise.all(links.map((l) => l.close()));
    },
  };
}
