/**
 * Whether an error says a dependency is out of reach for now — its database
 * refusing, resetting, timing out, shutting down or starting up, out of disk
 * or connections, or a sidecar not answering — rather than a bug. Such a
 * request is answered 503 with Retry-After: a client retries it, as the saga
 * and the outbox do, and nothing was kept that was not committed.
 */

/** Postgres's classes: 08 connection exception, 53 insufficient resources (53100 disk full), 57P01–03 shutdown / cannot connect now. */
const SQLSTATE = /^(08...|53...|57P0[123])$/;
const ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
// node-postgres and its pool say so only in words.
const MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

export function isDependencyUnavailable(err: unknown): boolean {
  // The driver's error may come wrapped by the ORM or by fetch (its `cause`).
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike, depth++) {
    if (typeof e !== 'object') return false;
    if (typeof e.code === 'string' && (SQLSTATE.test(e.code) || ERRNO.has(e.code))) return true;
    if (typeof e.message === 'string' && MESSAGE.test(e.message)) return true;
  }
  return false;
}
