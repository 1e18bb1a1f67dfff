import type { DomainEvent } from '../events/cloud-event.ts';
import { currentTraceparent } from '../observability/tracing.ts';

export interface SidecarOptions {
  host: string;
  httpPort: number;
  pubsubName: string;
  /** Sent as `dapr-api-token` on every call: the sidecar refuses calls without it when it has one. */
  apiToken?: string;
  /** Per-call timeout; a call that takes longer counts as a sidecar failure. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** The trace the call belongs to; the active span's by default. */
  traceparent?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Ends the call instead of the timeout (a stream that lasts as long as its client). */
  signal?: AbortSignal;
}

/** Our event as the CloudEvent we publish: our id, type and subject, not Dapr's. */
const cloudEventOf = (event: DomainEvent) => ({
  specversion: '1.0',
  datacontenttype: 'application/json',
  id: event.id,
  source: event.source,
  type: event.type,
  subject: event.subject,
  time: event.time,
  data: event.data,
});

/** The sidecar did not answer (down, restarting, timed out). Safe to retry. */
export class SidecarUnavailableError extends Error {
  override name = 'SidecarUnavailableError';
}

/** The sidecar (or the app behind it) answered with an error status. */
export class DaprHttpError extends Error {
  override name = 'DaprHttpError';
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown, what: string) {
    super(`${what} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }

  /** The problem `type` when the body is problem+json, for branching on business refusals. */
  get problemType(): string | undefined {
    return typeof this.body === 'object' && this.body !== null
      ? ((this.body as { type?: string }).type ?? undefined)
      : undefined;
  }
}

export interface ActorStateOperation {
  operation: 'upsert' | 'delete';
  request: { key: string; value?: unknown };
}

/**
 * Thin helpers over the daprd HTTP API (publish, invoke, state, actors). Plain
 * fetch rather than the SDK's DaprClient: we need the raw status and problem
 * body of an invoked app, CloudEvent pass-through with our own ids, and trace
 * propagation, and each is one request.
 */
export class DaprSidecar {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly options: SidecarOptions;

  constructor(options: SidecarOptions) {
    this.options = options;
    this.baseUrl = `http://${options.host}:${options.httpPort}`;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** What a call of the sidecar's API carries (its token), for a client that calls it by itself. */
  authHeaders(): Record<string, string> {
    return this.options.apiToken ? { 'dapr-api-token': this.options.apiToken } : {};
  }

  async request(method: string, path: string, body?: unknown, call: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...call.headers, ...this.authHeaders() };
    const traceparent = call.traceparent ?? currentTraceparent();
    if (traceparent) headers.traceparent = traceparent;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: payload,
        signal: call.signal ?? AbortSignal.timeout(call.timeoutMs ?? this.timeoutMs),
      });
    } catch (err) {
      throw new SidecarUnavailableError(`dapr sidecar at ${this.baseUrl} did not answer ${method} ${path}`, {
        cause: err,
      });
    }
  }

  private async expectOk(res: Response, what: string): Promise<unknown> {
    const text = await res.text();
    let body: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    if (!res.ok) throw new DaprHttpError(res.status, body, what);
    return body === '' ? undefined : body;
  }

  /** Publishes a CloudEvent as is (our id, type, subject), keyed by its subject. */
  async publish(event: DomainEvent, call: CallOptions = {}): Promise<void> {
    const envelope = cloudEventOf(event);
    const query = `metadata.partitionKey=${encodeURIComponent(event.subject)}`;
    const res = await this.request(
      'POST',
      `/v1.0/publish/${this.options.pubsubName}/${event.topic}?${query}`,
      envelope,
      { ...call, headers: { 'content-type': 'application/cloudevents+json', ...call.headers } },
    );
    await this.expectOk(res, `publish to ${event.topic}`);
  }

  /**
   * Publishes several CloudEvents of one topic in one call (Dapr's bulk
   * publish; Kafka sends them as one batch), each keyed by its
   * subject. Returns the entry ids that failed; the others were published.
   */
  async publishMany(
    topic: string,
    entries: { entryId: string; event: DomainEvent }[],
    call: CallOptions = {},
  ): Promise<string[]> {
    const body = entries.map(({ entryId, event }) => ({
      entryId,
      event: cloudEventOf(event),
      contentType: 'application/cloudevents+json',
      metadata: { partitionKey: event.subject },
    }));
    const res = await this.request(
      'POST',
      `/v1.0/publish/bulk/${this.options.pubsubName}/${topic}`,
      body,
      call,
    );
    if (res.ok) {
      await res.arrayBuffer();
      return [];
    }
    const text = await res.text();
    let failed: { entryId: string }[] | undefined;
    try {
      failed = (JSON.parse(text) as { failedEntries?: { entryId: string }[] }).failedEntries;
    } catch {
      failed = undefined;
    }
    // Some entries failed: those are named. Anything else (no list): the whole call failed.
    if (failed && failed.length > 0) return failed.map((f) => f.entryId);
    throw new DaprHttpError(res.status, text, `bulk publish to ${topic}`);
  }

  /** Calls another service's endpoint through service invocation. */
  async invoke<T = unknown>(
    appId: string,
    method: string,
    httpMethod: 'GET' | 'POST' | 'PUT' | 'DELETE' = 'POST',
    body?: unknown,
    call: CallOptions = {},
  ): Promise<T> {
    const res = await this.request(httpMethod, `/v1.0/invoke/${appId}/method/${method}`, body, call);
    return (await this.expectOk(res, `${appId} ${httpMethod} /${method}`)) as T;
  }

  async invokeActor<T = unknown>(
    actorType: string,
    actorId: string,
    method: string,
    body?: unknown,
    call: CallOptions = {},
  ): Promise<T> {
    const res = await this.request(
      'PUT',
      `/v1.0/actors/${actorType}/${actorId}/method/${method}`,
      body,
      call,
    );
    return (await this.expectOk(res, `actor ${actorType}/${actorId}.${method}`)) as T;
  }

  async getActorState<T = unknown>(actorType: string, actorId: string, key: string): Promise<T | undefined> {
    const res = await this.request('GET', `/v1.0/actors/${actorType}/${actorId}/state/${key}`);
    if (res.status === 204) return undefined;
    return (await this.expectOk(res, `actor state ${actorType}/${actorId}/${key}`)) as T;
  }

  async saveActorState(actorType: string, actorId: string, operations: ActorStateOperation[]): Promise<void> {
    const res = await this.request('POST', `/v1.0/actors/${actorType}/${actorId}/state`, operations);
    await this.expectOk(res, `actor state ${actorType}/${actorId}`);
  }

  /** True when the sidecar's own components are ready (does not depend on this app). */
  async isHealthy(): Promise<boolean> {
    try {
      const res = await this.request('GET', '/v1.0/healthz/outbound', undefined, { timeoutMs: 2_000 });
      return res.ok;
    } catch {
      return false;
    }
  }
}
