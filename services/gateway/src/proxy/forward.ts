import { Readable } from 'node:stream';
import { type DaprSidecar, PROBLEM_CONTENT_TYPE, SidecarUnavailableError } from '@shop/platform';
import type { Context } from 'koa';
import { UpstreamUnavailableError } from '../gateway.errors.ts';

/** Request headers a client may send on to a service; everything else stays at the edge. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'idempotency-key', 'last-event-id', 'traceparent', 'tracestate'];
/**
 * The fake payment gateway's and the saga's fault hooks (obeyed by the services
 * only with FAKE_GATEWAY_FAULTS=true): passed on only when `faults` says so.
 */
const FAULT_HEADERS = ['x-fake-gateway', 'x-saga-fault'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'location', 'retry-after', 'cache-control'];

const parseJson = (body: Buffer): unknown => {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
};

export interface Upstream {
  app: string;
  /** The path on the app, params already encoded. */
  path: string;
  stream: boolean;
  /** Rewrites a `location` the app answered (its paths are not always the gateway's). */
  location?: (location: string) => string;
  /** Throws when a successful answer may not be shown to this caller (see access.ts). */
  checkAnswer?: ((answer: unknown) => void) | undefined;
  /** Pass the fault headers on (an operator, where faults are on); otherwise they stay here. */
  faults?: boolean;
}

/**
 * Sends the request on through our sidecar (Dapr service invocation) with the
 * caller's id and role as `x-user-id`/`x-user-role` (set here only: a client's
 * own are never passed), and answers with what the service answered. A stream
 * is piped as it comes and ends when either side leaves.
 */
export async function forward(
  ctx: Context,
  sidecar: DaprSidecar,
  upstream: Upstream,
  caller: { sub: string; role: string } | undefined,
  timeoutMs: number,
): Promise<void> {
  const headers: Record<string, string> = { 'x-request-id': ctx.state.requestId };
  for (const name of [...FORWARDED_REQUEST_HEADERS, ...(upstream.faults ? FAULT_HEADERS : [])]) {
    const value = ctx.get(name);
    if (value) headers[name] = value;
  }
  if (caller) {
    headers['x-user-id'] = caller.sub;
    headers['x-user-role'] = caller.role;
  }
  const hasBody = ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.request.body !== undefined;
  const clientGone = new AbortController();
  if (upstream.stream) {
    ctx.req.socket.setTimeout(0);
    ctx.req.once('close', () => clientGone.abort());
  }
  const query = ctx.querystring ? `?${ctx.querystring}` : '';
  const started = performance.now();
  let res: Response;
  try {
    res = await sidecar.request(
      ctx.method,
      `/v1.0/invoke/${upstream.app}/method${upstream.path}${query}`,
      hasBody ? JSON.stringify(ctx.request.body) : undefined,
      upstream.stream ? { headers, signal: clientGone.signal } : { headers, timeoutMs },
    );
  } catch (err) {
    throw err instanceof SidecarUnavailableError
      ? new UpstreamUnavailableError(`The ${upstream.app} service`, err)
      : err;
  }
  const contentType = res.headers.get('content-type') ?? '';
  // A 5xx that is not the service's own problem document is the sidecar saying it could not
  // reach the app (Dapr's ERR_DIRECT_INVOKE): the service is away, not broken.
  if (res.status >= 500 && !contentType.startsWith(PROBLEM_CONTENT_TYPE)) {
    await res.body?.cancel();
    throw new UpstreamUnavailableError(`The ${upstream.app} service`);
  }
  ctx.status = res.status;
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = res.headers.get(name);
    if (value) ctx.set(name, name === 'location' && upstream.location ? upstream.location(value) : value);
  }
  // The time from sending the request on to the service's full answer (its first bytes for a
  // stream): the benchmarks take it from the client's time to print what the gateway adds.
  const upstreamTiming = () =>
    ctx.set('server-timing', `upstream;dur=${(performance.now() - started).toFixed(1)}`);
  if (upstream.stream && res.ok && res.body) {
    upstreamTiming();
    ctx.set({ 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    ctx.body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    return;
  }
  const body = Buffer.from(await res.arrayBuffer());
  upstreamTiming();
  // An answer that cannot be read cannot be shown to be the caller's: the check refuses it.
  if (upstream.checkAnswer && res.ok) upstream.checkAnswer(parseJson(body));
  if (body.length > 0) {
    ctx.body = body;
    ctx.type = contentType;
  } else if (ctx.status !== 204) {
    ctx.body = '';
  }
}
