import { localSecret } from './local-secrets.ts';
import { gateway, replicasOf, serviceList } from './topology.ts';

export interface ApiTokens {
  /** Every sidecar demands it on its API (daprd's DAPR_API_TOKEN); the services send it. */
  dapr: string;
  /**
   * Each app's own (daprd's APP_API_TOKEN, by app id): its sidecar sends it to
   * it and the app answers nothing else, so one app's token opens no other's port.
   */
  appOf: (appId: string) => string;
}

let cached: { dapr: string; apps: Map<string, string> } | undefined;

/**
 * The local platform's API tokens, made once per checkout in `.shop/keys`
 * (local-secrets.ts, like the signing key) so that the tests and benchmarks,
 * which run beside the platform, read the same ones (read once per process).
 * The chart keeps them in Secrets.
 */
export function localApiTokens(): ApiTokens {
  cached ??= { dapr: localSecret('dapr-api-token'), apps: new Map() };
  const { dapr, apps } = cached;
  return {
    dapr,
    appOf: (appId) => {
      if (!apps.has(appId)) apps.set(appId, localSecret(`app-${appId}-api-token`));
      return apps.get(appId)!;
    },
  };
}

/**
 * What the gateway passes on for the demo admin (its id and role): a tool that
 * gives its test buyers points on the user service's own port sends it with a
 * grant, as the gateway would for the admin.
 */
export const DEMO_ADMIN_HEADERS = {
  'x-user-id': '0190c0de-0000-7000-8000-0000000000b1',
  'x-user-role': 'admin',
};

/** Other addresses with the headers they take (a cluster's services through port-forwards). */
const otherAddresses = new Map<string, Record<string, string>>();

export function addInsiderAddress(baseUrl: string, headers: Record<string, string>): void {
  otherAddresses.set(new URL(baseUrl).origin, headers);
}

/**
 * The header a trusted local tool (a test, a benchmark) sends to a URL of the
 * platform: the Dapr API token to a sidecar, that service's app API token to a
 * service's own port (as its sidecar would), nothing to the gateway or anything else.
 */
export function insiderHeaders(url: string): Record<string, string> {
  const other = otherAddresses.get(new URL(url).origin);
  if (other) return other;
  const port = Number(new URL(url).port);
  const replicas = serviceList.flatMap((s) => replicasOf(s.service));
  const tokens = localApiTokens();
  if (port === gateway.daprHttpPort || replicas.some((r) => r.daprHttpPort === port))
    return { 'dapr-api-token': tokens.dapr };
  const app = replicas.find((r) => r.appPort === port);
  if (app) return { 'dapr-api-token': tokens.appOf(app.appId) };
  return {};
}

/** The header the runner's control API (local/src/control.ts) demands: its token, from `.shop/keys`. */
export const controlHeaders = (): Record<string, string> => ({
  'x-control-token': localSecret('control-token'),
});
