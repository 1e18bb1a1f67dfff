import { randomUUID } from 'node:crypto';
import { eventually } from '@shop/platform/testing';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { controlHeaders, insiderHeaders } from '../src/api-tokens.ts';
import { control, dataPlatform, gateway, replicasOf, type ServiceName, services } from '../src/topology.ts';

export { eventually } from '@shop/platform/testing';
export { dataPlatform, gateway, insiderHeaders, replicasOf, services };

const { Kafka, logLevel } = kafkajs;

/** Asks the runner to stop or start one of its processes (e.g. `user-dapr`). */
export async function processControl(
  name: string,
  action: 'stop' | 'start',
  signal?: 'SIGKILL',
): Promise<void> {
  const query = signal ? `?signal=${signal}` : '';
  const res = await fetch(`${control.url}/processes/${name}/${action}${query}`, {
    method: 'POST',
    headers: controlHeaders(),
  });
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

/**
 * An HTTP call with a JSON body, answered with status and parsed body. The
 * tests are insiders: to a sidecar or a service's own port the call carries the
 * token that it demands (`insiderHeaders`); the refusals without one are tested
 * with plain fetch.
 */
export async function call<T = any>(
  method: string,
  url: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const headers = { ...insiderHeaders(url), ...extraHeaders };
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

/**
 * Reads a Kafka topic from the start, straight from the broker (not through
 * Dapr), until a CloudEvent matches; proves the event really reached Kafka.
 */
export async function findOnKafka(
  topic: string,
  match: (event: { id: string; type: string; subject?: string; data: any }) => boolean,
  timeoutMs = 30_000,
): Promise<{ id: string; type: string; subject?: string; data: any }> {
  const brokers = (process.env.SHOP_TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const kafka = new Kafka({ brokers, clientId: 'e2e', logLevel: logLevel.NOTHING });
  // The topic appears with its first event (auto-created on publish). A consumer that joins
  // before then is given no partitions, so wait for the topic first.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      `topic ${topic} to exist`,
      async () => (await admin.listTopics()).includes(topic),
      timeoutMs,
    );
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `e2e-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching event on ${topic} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          const event = JSON.parse(message.value?.toString() ?? '{}');
          if (match(event)) {
            clearTimeout(timer);
            resolve(event);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** A coupon as the tests define it: 5,000 KRW off orders of 10,000 or more, open from an hour ago for two hours. */
export function fixedCoupon(name: string, quota = 10) {
  const hour = 3_600_000;
  return {
    name,
    discountType: 'FIXED',
    discountValue: 5000,
    quota,
    minOrderAmount: 10_000,
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
  };
}

/** Signs in at the gateway; the access token and the user's id. */
export async function signIn(email: string, password: string): Promise<{ token: string; userId: string }> {
  const res = await call('POST', `${gateway.appUrl}/auth/login`, { email, password });
  if (res.status !== 200)
    throw new Error(`sign-in of ${email} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, userId: res.body.userId };
}

/** Registers a customer with a password through the gateway and signs them in. */
export async function signUp(name = 'Customer'): Promise<{ token: string; userId: string }> {
  const email = `${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  const res = await call('POST', `${gateway.appUrl}/users`, { email, name, password });
  if (res.status !== 202) throw new Error(`sign-up answered ${res.status}: ${JSON.stringify(res.body)}`);
  return signIn(email, password);
}

/** A call to the gateway, with the access token when one is given. */
export const viaGateway = <T = any>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) =>
  call<T>(method, `${gateway.appUrl}${path}`, options.body, {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  });
