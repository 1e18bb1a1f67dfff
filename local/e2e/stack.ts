import pg from 'pg';
import { control, type ServiceName, services } from '../src/topology.ts';

export { services };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined/false, or fails with `what`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/** Asks the runner to stop or start one of its processes (e.g. `user-dapr`). */
export async function processControl(name: string, action: 'stop' | 'start'): Promise<void> {
  const res = await fetch(`${control.url}/processes/${name}/${action}`, { method: 'POST' });
  if (!res.ok) throw new Error(`could not ${action} ${name}: ${await res.text()}`);
}

/** Direct SQL on a service's own database, to check what it stored. */
export async function query<T = Record<string, unknown>>(
  service: ServiceName,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const url = new URL(process.env.SHOP_TEST_POSTGRES_URL!);
  url.pathname = `/${services[service].database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

/** An HTTP call with a JSON body, answered with status and parsed body. */
export async function call<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed as T };
}

/** Calls a service's endpoint through a sidecar (service invocation). */
export const invoke = (via: ServiceName, appId: ServiceName, method: string, path: string, body?: unknown) =>
  call(method, `${services[via].daprUrl}/v1.0/invoke/${appId}/method/${path.replace(/^\//, '')}`, body);
