import type Router from '@koa/router';
import type Koa from 'koa';
import type { z } from 'zod';
import { createApp } from './app.ts';
import { baseConfigSchema } from './config/load-config.ts';
import { DaprSidecar } from './dapr/sidecar.ts';
import type { ReadinessCheck } from './http/health.router.ts';
import { serve } from './http/serve.ts';
import { createLogger, type Logger } from './logger.ts';
import { initTracing } from './observability/tracing.ts';
import { openApiRouter } from './openapi/openapi.router.ts';
import type { OpenApiDocument } from './openapi/openapi-document.ts';
import { loadOrExit } from './service.ts';

/** The settings of a service that keeps no data: no database, pub/sub or state store. */
export const statelessConfigSchema = baseConfigSchema.pick({
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

/** The main of a service without a database (the gateway): config, logger, sidecar, server, graceful stop. */
export async function runStatelessService<S extends z.ZodObject>(
  definition: StatelessServiceDefinition<S>,
): Promise<void> {
  const config = loadOrExit((definition.configSchema ?? statelessConfigSchema) as S) as z.infer<S> &
    StatelessConfig;
  const log = createLogger(config.APP_ID, config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const tracing = initTracing({
    serviceName: config.APP_ID,
    zipkinUrl: config.TRACING_ZIPKIN_URL,
    samplingRate: config.TRACING_SAMPLING_RATE,
  });
  const sidecar = new DaprSidecar({
    host: config.DAPR_HOST,
    httpPort: config.DAPR_HTTP_PORT,
    pubsubName: 'pubsub',
    apiToken: config.DAPR_API_TOKEN,
  });
  const parts = definition.build({ config, log, sidecar });
  await serve(assembleStatelessApp({ config, log, sidecar }, parts), {
    port: config.PORT,
    host: config.HOST,
    log,
    graceMs: config.SHUTDOWN_GRACE_MS,
    onStopping: async () => {
      await parts.onStopping?.().catch((err) => log.error({ err }, 'error while stopping'));
      await tracing.shutdown();
    },
  });
}
