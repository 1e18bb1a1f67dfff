import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localApiTokens } from './api-tokens.ts';
import { renderComponents, trustAnchorsFile } from './infra.ts';
import { ROOT } from './paths.ts';
import type { Tools } from './provision.ts';
import { localSigningKey } from './signing-key.ts';
import { ensureStorefrontBuilt } from './storefront.ts';
import { httpOk, type Supervisor } from './supervisor.ts';
import {
  dataPlatform,
  faultProxy,
  gateway,
  HOST,
  placement,
  postgres,
  redis,
  replicasOf,
  type ServiceAddress,
  scheduler,
  sentry,
  serviceList,
  zipkin,
} from './topology.ts';
import { step } from './ui.ts';

const node = process.execPath;

function appSpec(s: ServiceAddress, extraEnv: Record<string, string>) {
  return {
    name: s.name,
    command: node,
    args: ['--disable-warning=ExperimentalWarning', join(ROOT, 'services', s.service, 'src', 'main.ts')],
    cwd: join(ROOT, 'services', s.service),
    env: {
      APP_ID: s.appId,
      PORT: String(s.appPort),
      HOST,
      DATABASE_URL: faultProxy.via(`${s.name}→postgres`, postgres.databaseUrl(s.database)),
      REDIS_URL: faultProxy.via('services→redis', redis.url),
      DAPR_HOST: HOST,
      DAPR_HTTP_PORT: String(s.daprHttpPort),
      // The workflow worker's stream (only the order service has one, on its first replica's link).
      DAPR_GRPC_PORT: String(
        s.name === 'order' ? faultProxy.port('order→order-dapr', s.daprGrpcPort) : s.daprGrpcPort,
      ),
      DAPR_API_TOKEN: localApiTokens().dapr,
      APP_API_TOKEN: localApiTokens().appOf(s.appId),
      MIGRATE_ON_START: 'true',
      SEED_DEMO_DATA: 'true',
      // The payment service's fake gateway obeys the x-fake-gateway header, so
      // every failure branch of the saga can be driven by hand and by tests.
      FAKE_GATEWAY_FAULTS: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      TRACING_ZIPKIN_URL: zipkin.spansUrl,
      TRACING_SAMPLING_RATE: zipkin.samplingRate,
      ...extraEnv,
    },
    ports: [s.appPort, ...(s.service === 'order' ? [dataPlatform.port] : [])],
    ready: () => httpOk(`${s.appUrl}/healthz`),
  };
}

/** The gateway: no database; it reaches the services only through its own sidecar. */
function gatewaySpec(storefrontDir: string) {
  return {
    name: gateway.name,
    command: node,
    args: ['--disable-warning=ExperimentalWarning', join(ROOT, 'services', 'gateway', 'src', 'main.ts')],
    cwd: join(ROOT, 'services', 'gateway'),
    env: {
      APP_ID: gateway.appId,
      PORT: String(gateway.appPort),
      // Its /metrics, off the public port.
      METRICS_PORT: String(gateway.metricsPort),
      HOST,
      DAPR_HOST: HOST,
      DAPR_HTTP_PORT: String(gateway.daprHttpPort),
      DAPR_API_TOKEN: localApiTokens().dapr,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      // The trace of a request starts here, at the one public entry.
      TRACING_ZIPKIN_URL: zipkin.spansUrl,
      TRACING_SAMPLING_RATE: zipkin.samplingRate,
      // The storefront page, served at `/`.
      STOREFRONT_DIR: storefrontDir,
      // The demo ops user may drive the fault hooks by hand through the gateway (a customer never).
      FAKE_GATEWAY_FAULTS: 'true',
    },
    ports: [gateway.appPort, gateway.metricsPort],
    ready: () => httpOk(`${gateway.appUrl}/healthz`),
  };
}

type SidecarAddress = Pick<
  ServiceAddress,
  | 'name'
  | 'appId'
  | 'appPort'
  | 'daprHttpPort'
  | 'daprGrpcPort'
  | 'daprInternalGrpcPort'
  | 'daprMetricsPort'
  | 'daprUrl'
>;

type RenderedComponents = ReturnType<typeof renderComponents>;

/**
 * A sidecar with its app's own Configuration (access control), an mTLS
 * identity from Sentry, and both API tokens: it demands the Dapr one from
 * callers of its API and sends the app one to its app (`appToken` false: the
 * gateway, whose routes are public anyway).
 */
function sidecarSpec(s: SidecarAddress, tools: Tools, paths: RenderedComponents, appToken = true) {
  const tokens = localApiTokens();
  return {
    name: `${s.name}-dapr`,
    command: join(tools.daprBin, 'daprd'),
    args: [
      '--app-id',
      s.appId,
      '--app-port',
      String(s.appPort),
      '--app-protocol',
      'http',
      '--app-channel-address',
      HOST,
      '--dapr-listen-addresses',
      HOST,
      '--dapr-http-port',
      String(s.daprHttpPort),
      '--dapr-grpc-port',
      String(s.daprGrpcPort),
      '--dapr-internal-grpc-port',
      String(s.daprInternalGrpcPort),
      '--metrics-port',
      String(s.daprMetricsPort),
      '--resources-path',
      paths.resourcesPathOf(s.appId),
      '--config',
      paths.configPathOf(s.appId),
      '--enable-mtls',
      '--sentry-address',
      `${HOST}:${sentry.port}`,
      '--placement-host-address',
      `${HOST}:${faultProxy.port('sidecars→placement', placement.port)}`,
      '--scheduler-host-address',
      `${HOST}:${faultProxy.port('sidecars→scheduler', scheduler.port)}`,
      '--enable-app-health-check',
      '--app-health-check-path',
      '/healthz',
      '--dapr-graceful-shutdown-seconds',
      '5',
      '--log-level',
      'info',
    ],
    env: {
      // daprd registers this address with placement and name resolution.
      DAPR_HOST_IP: HOST,
      DAPR_TRUST_ANCHORS: readFileSync(trustAnchorsFile(), 'utf8'),
      DAPR_API_TOKEN: tokens.dapr,
      ...(appToken ? { APP_API_TOKEN: tokens.appOf(s.appId) } : {}),
    },
    ports: [s.daprHttpPort, s.daprGrpcPort, s.daprInternalGrpcPort, s.daprMetricsPort],
    // 204 once the sidecar has loaded its components and reached the app.
    ready: () => httpOk(`${s.daprUrl}/v1.0/healthz`),
    readyTimeoutMs: 90_000,
  };
}

/**
 * Under `npm test` a compensation gives up after 3 attempts (1 + 2 s) instead of
 * 8, the order reconciler passes every 2 s with bounds of 5 s (a workflow
 * never scheduled) and 30 s (a stalled one), and an export backs off 2 s at
 * most, so that the NEEDS_ATTENTION, reconciler and export paths are tested in
 * seconds, not minutes.
 */
const TEST_ENV = {
  SAGA_COMPENSATION_ATTEMPTS: '3',
  RECONCILE_INTERVAL_MS: '2000',
  RECONCILE_UNSCHEDULED_AFTER_MS: '5000',
  RECONCILE_STALLED_AFTER_MS: '30000',
  // An export is tried every 2 s at most, 30 times (about a minute) before it is DEAD.
  EXPORT_FIRST_BACKOFF_MS: '250',
  EXPORT_MAX_BACKOFF_MS: '2000',
  EXPORT_ATTEMPTS: '30',
};

/**
 * Every service (migrated at start) with its own daprd, side by side. Further
 * replicas of a service start once its first is up (migrated, demo data
 * loaded), each with its own daprd under the same app id.
 */
export async function startServices(
  sup: Supervisor,
  tools: Tools,
  options: { test: boolean },
): Promise<void> {
  const paths = renderComponents();
  const testEnv = options.test ? TEST_ENV : {};
  // Only the user service signs tokens; the order service serves the fake data platform.
  const ownEnv = (s: ServiceAddress): Record<string, string> =>
    s.service === 'user'
      ? { JWT_PRIVATE_KEY: localSigningKey() }
      : s.service === 'order'
        ? { FAKE_DATA_PLATFORM_PORT: String(dataPlatform.port) }
        : {};
  const startReplica = (s: ServiceAddress, env: Record<string, string>) =>
    step(`starting ${s.name} and its sidecar`, async () => {
      await sup.start(appSpec(s, { ...testEnv, ...ownEnv(s), ...env }));
      await sup.start(sidecarSpec(s, tools, paths));
    });
  await Promise.all(
    serviceList.map(async (s) => {
      const [first, ...others] = replicasOf(s.service);
      await startReplica(first!, {});
      await Promise.all(others.map((r) => startReplica(r, { SEED_DEMO_DATA: 'false' })));
    }),
  );
  const storefrontDir = await ensureStorefrontBuilt();
  await step('starting the gateway and its sidecar', async () => {
    await sup.start(gatewaySpec(storefrontDir));
    await sup.start(sidecarSpec(gateway, tools, paths, false));
  });
}
