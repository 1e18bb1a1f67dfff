import type { Server } from 'node:http';
import type Koa from 'koa';
import { problemTypeUri } from '../errors/app-error.ts';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem-middleware.ts';
import type { Logger } from '../logger.ts';

export interface ServeOptions {
  port: number;
  host: string;
  log: Logger;
  /** After this long a stop that has not finished exits the process anyway. */
  graceMs: number;
  /** Runs once the server has stopped taking requests, before the process exits. */
  onStopping?: () => Promise<void>;
}

/**
 * Listens, and stops gracefully on SIGTERM/SIGINT: no new requests, then the
 * caller's own clean-up, then exit. Resolves once listening.
 */
export async function serve(app: Koa, options: ServeOptions): Promise<Server> {
  const { log } = options;
  // Once stopping, a request that still arrives on a kept-alive connection (the sidecar's) is
  // turned away with 503 and the connection closed, not served: a caller retries a 503, while a
  // step served by a process on its way out can be cut off half-way.
  let stopping = false;
  app.middleware.unshift(async (ctx, next) => {
    if (!stopping) return next();
    ctx.set('connection', 'close');
    ctx.status = 503;
    ctx.type = PROBLEM_CONTENT_TYPE;
    ctx.body = { type: problemTypeUri('shutting-down'), title: 'The service is shutting down', status: 503 };
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
  });
  log.info({ port: options.port }, 'listening');

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, options.graceMs);
    force.unref();
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeIdleConnections();
    });
    await options.onStopping?.();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return server;
}
