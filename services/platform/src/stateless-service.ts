import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import { createApp } from './app.ts';
import { baseConfigSchema } from './config/load-config.ts';
import type { DaprSidecar } from './dapr/sidecar.ts';
import type { ReadinessCheck } from './http/health.router.ts';
import type { Logger } from './logger.ts';
import { openApiRouter } from './openapi/openapi.router.ts';
import type { OpenApiDocument } from './openapi/openapi-document.ts';

/** The settings of a service that keeps no data: no database, pub/sub or state store. */
export const statelessConfigSchema = baseConfigSchema
  .pick({
    APP_ID: true,
    PORT: true,
    HOST: true,
    LOG_LEVEL: true,
    DAPR_HOST: true,
    DAPR_HTTP_PORT: true,
    DAPR_API_TOKEN: true,
    SHUTDOWN_GRACE_MS: true,
    TRACING_ZIPKIN_URL: true,
    TRACING_SAMPLING_RATE: true,
  })
  .extend({
    /**
     * Where its /metrics is served: a port of its own, since the app's port of a
     * public service is reachable from anywhere. Unset: no metrics served.
     */
    METRICS_PORT: z.coerce.number().int().positive().optional(),
  });
export type StatelessConfig = z.infer<typeof statelessConfigSchema>;

export interface StatelessServiceDeps<C extends StatelessConfig = StatelessConfig> {
  config: C;
  log: Logger;
  sidecar: DaprSidecar;
}

export interface StatelessServiceParts {
  routers: Router[];
  readiness?: Record<string, ReadinessCheck>;
  /** Its contract, served as `/openapi.json`; built when asked, so it may gather from elsewhere. */
  openApi?: () => Promise<OpenApiDocument>;
  /**
   * How many proxies in front of the app append to X-Forwarded-For (0: none;
   * `ctx.ip` is the peer). With N, `ctx.ip` is the address the first of them
   * saw: the Nth entry from the right. Entries left of those are the client's
   * own words, never trusted.
   */
  trustProxyHops?: number;
  onStopping?: () => Promise<void>;
}

export interface StatelessServiceDefinition<S extends z.ZodObject = typeof statelessConfigSchema> {
  /** It keeps no data: runService starts no database, outbox, inbox or event delivery for it. */
  stateless: true;
  configSchema?: S;
  build(deps: StatelessServiceDeps<z.infer<S> & StatelessConfig>): StatelessServiceParts;
}

/** The app of a stateless service: its routes, `/healthz`, and `/readyz` (the sidecar). */
export function assembleStatelessApp(deps: StatelessServiceDeps, parts: StatelessServiceParts): Koa {
  const app = createApp({
    log: deps.log,
    routers: parts.openApi ? [...parts.routers, openApiRouter(parts.openApi)] : parts.routers,
    readiness: { sidecar: () => deps.sidecar.isHealthy(), ...parts.readiness },
  });
  app.proxy = (parts.trustProxyHops ?? 0) > 0;
  app.maxIpsCount = parts.trustProxyHops ?? 0;
  return app;
}
