import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE } from './paths.ts';
import { gateway, replicasOf, serviceList } from './topology.ts';

export interface ApiTokens {
  /** Every sidecar demands it on its API (daprd's DAPR_API_TOKEN); the services send it. */
  dapr: string;
  /** Every sidecar sends it to its app (daprd's APP_API_TOKEN); the services answer nothing else. */
  app: string;
}

const tokenFile = (name: string) => {
  const file = join(STATE, 'keys', `${name}-api-token`);
  if (!existsSync(file)) {
    mkdirSync(join(STATE, 'keys'), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8');
};

let cached: ApiTokens | undefined;

/**
 * The local platform's two API tokens, made once per checkout in `.shop/keys`
 * (like the signing key) so that the tests and benchmarks, which run beside the
 * platform, read the same ones (read once per process). The chart keeps them in Secrets.
 */
export function localApiTokens(): ApiTokens {
  cached ??= { dapr: tokenFile('dapr'), app: tokenFile('app') };
  return cached;
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
 * platform: the Dapr API token to a sidecar, the app API token to a service's
 * own port (as its sidecar would), nothing to the gateway or anything else.
 */
export function insiderHeaders(url: string): Record<string, string> {
  const other = otherAddresses.get(new URL(url).origin);
  if (other) return other;
  const port = Number(new URL(url).port);
  const replicas = serviceList.flatMap((s) => replicasOf(s.service));
  const tokens = localApiTokens();
  if (port === gateway.daprHttpPort || replicas.some((r) => r.daprHttpPort === port))
    return { 'dapr-api-token': tokens.dapr };
  if (replicas.some((r) => r.appPort === port)) return { 'dapr-api-token': tokens.app };
  return {};
}
