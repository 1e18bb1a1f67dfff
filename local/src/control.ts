import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { controlHeaders } from './api-tokens.ts';
import type { Supervisor } from './supervisor.ts';
import { control, HOST } from './topology.ts';

/**
 * A small HTTP API on loopback for tests and chaos runs: list the processes,
 * stop one (SIGTERM, or SIGKILL with ?signal=SIGKILL) and start it again.
 * Only for who reads `.shop/keys/control-token` (x-control-token): any other
 * local process could otherwise stop the platform's parts.
 */
export function startControlServer(sup: Supervisor): Promise<Server> {
  const token = Buffer.from(controlHeaders()['x-control-token']!);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', control.url);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const sent = Buffer.from(String(req.headers['x-control-token'] ?? ''));
    if (sent.length !== token.length || !timingSafeEqual(sent, token)) {
      return send(401, { error: 'send the token in .shop/keys/control-token as x-control-token' });
    }
    try {
      if (req.method === 'GET' && url.pathname === '/processes') return send(200, sup.names());
      const match = /^\/processes\/([\w-]+)\/(stop|start)$/.exec(url.pathname);
      if (req.method === 'POST' && match) {
        const [, name, action] = match as unknown as [string, string, 'stop' | 'start'];
        if (action === 'stop') {
          const signal = url.searchParams.get('signal') === 'SIGKILL' ? 'SIGKILL' : undefined;
          return send(200, { name, stopped: await sup.stop(name, signal) });
        }
        await sup.restart(name);
        return send(200, { name, started: true });
      }
      send(404, { error: `no such control endpoint: ${req.method} ${url.pathname}` });
    } catch (err) {
      send(500, { error: (err as Error).message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(control.port, HOST, () => resolve(server));
  });
}
