import { type StatelessServiceDefinition, statelessConfigSchema, TokenBuckets } from '@shop/platform';
import { z } from 'zod';
import { remoteTokenVerifier } from './auth/access-token.ts';
import { gatewayDocument } from './openapi/gateway-document.ts';
import { OpenStreams } from './rate-limit/open-streams.ts';
import { gatewayRouter } from './routes/gateway.router.ts';
import { storefrontRouter } from './storefront/storefront.router.ts';

export const gatewayConfigSchema = statelessConfigSchema.extend({
  /** Requests a second per signed-in user, after a burst of RATE_LIMIT_BURST. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(40),
  /**
   * Anonymous calls (the catalog, sign-in) per client address: higher, since many
   * people can share one address (a NAT, an office).
   */
  ANONYMOUS_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
  ANONYMOUS_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(200),
  /**
   * Behind proxies or an ingress that append to X-Forwarded-For: how many (the
   * client's address is the one the first of them saw); 0 when the gateway is reached directly.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Server-sent event streams one user may hold open at once (per gateway replica). */
  MAX_STREAMS_PER_USER: z.coerce.number().int().positive().default(10),
  /** How long a proxied call may take; streams (server-sent events) are not bounded. */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  /** Pass an operator's fault headers (x-fake-gateway, x-saga-fault) on to the services: tests and local runs only. */
  FAKE_GATEWAY_FAULTS: z.stringbool().default(false),
  /** The storefront page's built files (services/storefront/dist), served at `/`; none when empty. */
  STOREFRONT_DIR: z.string().default(''),
});

export const gatewayService: StatelessServiceDefinition<typeof gatewayConfigSchema> = {
  stateless: true,
  configSchema: gatewayConfigSchema,
  build: ({ config, sidecar }) => ({
    trustProxyHops: config.TRUST_PROXY_HOPS,
    openApi: gatewayDocument(sidecar),
    routers: [
      gatewayRouter({
        sidecar,
        verifyToken: remoteTokenVerifier(sidecar),
        rateLimit: {
          user: new TokenBuckets(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST),
          anonymous: new TokenBuckets(
            config.ANONYMOUS_RATE_LIMIT_PER_SECOND,
            config.ANONYMOUS_RATE_LIMIT_BURST,
          ),
        },
        streams: new OpenStreams(config.MAX_STREAMS_PER_USER),
        upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
        faultsFromOps: config.FAKE_GATEWAY_FAULTS,
      }),
      ...(config.STOREFRONT_DIR ? [storefrontRouter(config.STOREFRONT_DIR)] : []),
    ],
  }),
};
