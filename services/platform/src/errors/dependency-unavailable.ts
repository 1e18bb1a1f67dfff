/**
 * Whether an error says a dependency is out of reach for now — its database
 * refusing, resetting, timing out, shutting down or starting up, out of disk
 * or connections, or a sidecar not answering — rather than a bug. Such a
 * request is answered 503 with Retry-After: a client retries it, as the saga
 * and the outbox do, and nothing was kept that was not committed.
 */

/**
 * Postgres's: the connection ones of class 08 (not 08P01, a protocol violation:
 * our bug), disk full (53100), too many connections (53300), and shutting down
 * or not yet accepting connections (57P01–03). Out of memory or a configured
 * limit depend on the query, so they stay 500s.
 */
const SQLSTATES = new Set([
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53100',
  '53300',
  '57P01',
  '57P02',
  '57P03',
]);
const ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // undici's (fetch): the socket closed, the connection not made in time.
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
// node-postgres and its pool say so only in words.
const MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** Our own errors, by name (this module stays below dapr/): the sidecar not answering, or answering 503. */
const unavailableOfOurs = (e: ErrorLike) =>
  e.name === 'SidecarUnavailableError' || (e.name === 'DaprHttpError' && e.status === 503);

export function isDependencyUnavailable(err: unknown): boolean {
  // The driver's error may come wrapped by the ORM or by fetch (its `cause`).
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike, depth++) {
    if (typeof e !== 'object') return false;
    if (unavailableOfOurs(e) || e.name === 'TimeoutError') return true;
    if (typeof e.code === 'string' && (SQLSTATES.has(e.code) || ERRNO.has(e.code))) return true;
    if (typeof e.message === 'string' && MESSAGE.test(e.message)) return true;
  }
  return false;
}
