import { createServer, type Server } from 'node:http';
import type { Supervisor } from './supervisor.ts';
import { control, HOST } from './topology.ts';

/**
 * A small HTTP API on loopback for tests and chaos runs: list the processes,
 * stop one (SIGTERM, or SIGKILL with ?signal=SIGKILL) and start it again.
 */
export function startControlServer(sup: Supervisor): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', control.url);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
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
