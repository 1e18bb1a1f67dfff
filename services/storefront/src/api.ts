import { currentSession } from './session.ts';

/** An RFC 9457 problem the gateway or a service answered, kept whole for the page to show. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly type: string | undefined;

  constructor(status: number, body: { title?: string; detail?: string; type?: string } | undefined) {
    super(body?.detail ?? body?.title ?? `HTTP ${status}`);
    this.status = status;
    this.type = body?.type;
  }
}

/** Headers for a call as the signed-in person (none when nobody is). */
export function authHeaders(): Record<string, string> {
  const session = currentSession();
  return session ? { authorization: `Bearer ${session.accessToken}` } : {};
}

/** A JSON call to the gateway (same origin); a non-2xx answer throws its problem. */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      ...authHeaders(),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) throw new ApiProblem(res.status, body as { title?: string; detail?: string });
  return body as T;
}
