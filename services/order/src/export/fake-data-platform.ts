import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { IDEMPOTENCY_HEADER } from './exporter.ts';

/**
 * A stand-in for the data platform that completed orders are exported to,
 * used when no EXPORT_URL is set: it keeps each record once per idempotency
 * key (in memory, so per process: it is a fake) and counts every delivery, a
 * duplicate too. On loopback only, beside the order service.
 *
 * Like the fake payment gateway it fails only when asked, and only when the
 * service runs with FAKE_GATEWAY_FAULTS=true: `PUT /fault` sets how it answers
 * every record from then on — `unavailable` (503), `reset` (the connection is
 * cut, no answer), `refuse` (422: the platform rejects the record) or
 * `slow:<ms>` (it keeps the record but answers late: past the exporter's
 * timeout the answer is lost, and the record comes again); `{"fault": null}`
 * makes it well again.
 */
export type PlatformFault =
  | { kind: 'unavailable' }
  | { kind: 'reset' }
  | { kind: 'refuse' }
  | { kind: 'slow'; ms: number };

export function parsePlatformFault(value: unknown): PlatformFault | null | undefined {
  if (value === null) return null;
  if (value === 'unavailable' || value === 'reset' || value === 'refuse') return { kind: value };
  const slow = typeof value === 'string' ? /^slow:(\d{1,6})$/.exec(value) : null;
  return slow ? { kind: 'slow', ms: Number(slow[1]) } : undefined;
}

interface Held {
  key: string;
  record: unknown;
  deliveries: number;
  receivedAt: string;
}

const MAX_BODY = 256 * 1024;

function answer(res: ServerResponse, status: number, body: unknown, problem = false): void {
  res.writeHead(status, { 'content-type': problem ? 'application/problem+json' : 'application/json' });
  res.end(JSON.stringify(body));
}

const problem = (res: ServerResponse, status: number, title: string, detail?: string) =>
  answer(res, status, { type: 'about:blank', title, status, ...(detail ? { detail } : {}) }, true);

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('the body is larger than 256 KiB');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export class FakeDataPlatform {
  private readonly held = new Map<string, Held>();
  private fault: PlatformFault | null = null;
  private server: Server | undefined;
  private readonly faultsEnabled: boolean;

  constructor(options: { faultsEnabled: boolean }) {
    this.faultsEnabled = options.faultsEnabled;
  }

  /** Listens on `host:port`; answers the URL records are POSTed to. */
  async listen(port: number, host: string): Promise<string> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err) => {
        if (!res.headersSent && !res.destroyed) problem(res, 400, 'Bad request', (err as Error).message);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return `http://${host}:${bound}/records`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path === '/records' && req.method === 'POST') return this.receive(req, res);
    if (path === '/records' && req.method === 'GET')
      return answer(res, 200, {
        records: [...this.held.values()],
        deliveries: [...this.held.values()].reduce((n, h) => n + h.deliveries, 0),
      });
    if (path === '/fault' && req.method === 'PUT' && this.faultsEnabled) {
      const body = (await readJson(req)) as { fault?: unknown } | null;
      const fault = parsePlatformFault(body?.fault);
      if (fault === undefined)
        return problem(res, 400, 'Unknown fault', 'fault: unavailable, reset, refuse, slow:<ms> or null');
      this.fault = fault;
      return answer(res, 200, { fault: body?.fault ?? null });
    }
    problem(res, 404, 'Not found');
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.fault;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'unavailable')
      return problem(res, 503, 'The data platform is unavailable (simulated)');
    if (fault?.kind === 'refuse')
      return problem(res, 422, 'The data platform refused the record (simulated)');
    const key = req.headers[IDEMPOTENCY_HEADER];
    if (typeof key !== 'string' || key.length === 0 || key.length > 200)
      return problem(res, 400, 'Missing idempotency key', `The ${IDEMPOTENCY_HEADER} header is required.`);
    const record = await readJson(req);
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return problem(res, 400, 'Bad record', 'A record is a JSON object.');
    const seen = this.held.get(key);
    if (seen) seen.deliveries += 1;
    else this.held.set(key, { key, record, deliveries: 1, receivedAt: new Date().toISOString() });
    // Taken, but answered late: past the sender's timeout the answer is lost and it sends again.
    if (fault?.kind === 'slow') await sleep(fault.ms);
    answer(res, seen ? 200 : 201, { key, duplicate: Boolean(seen) });
  }
}
