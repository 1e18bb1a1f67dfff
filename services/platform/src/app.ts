import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import Koa from 'koa';
import { problemMiddleware } from './errors/problem-middleware.ts';
import { healthRouter, type ReadinessCheck } from './http/health.router.ts';
import { requestContext } from './http/request-context.ts';
import { requireSidecarToken } from './http/sidecar-token.ts';
import type { Logger } from './logger.ts';

export interface AppOptions {
  log: Logger;
  routers: Router[];
  readiness?: Record<string, ReadinessCheck>;
  /** The app API token its sidecar sends; when given, nothing else is answered (but probes and metrics). */
  appApiToken?: string;
}

/** Builds a service's Koa app (no listen: tests use it in-process). */
export function createApp(options: AppOptions): Koa {
  const app = new Koa();
  app.use(requestContext(options.log));
  app.use(problemMiddleware);
  if (options.appApiToken) app.use(requireSidecarToken(options.appApiToken));
  app.use(
    bodyParser({
      enableTypes: ['json'],
      // Dapr delivers pub/sub messages as CloudEvents. The list replaces the
      // default one index by index (lodash.merge), so it names plain JSON too.
      extendTypes: { json: ['application/json', 'application/cloudevents+json'] },
      jsonLimit: '1mb',
    }),
  );
  const health = healthRouter(options.readiness ?? {});
  app.use(health.routes());
  for (const router of options.routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    const log = (ctx?.state as { log?: Logger } | undefined)?.log ?? options.log;
    log.error({ err, method: ctx?.method, path: ctx?.path }, 'request failed');
  });
  return app;
}
