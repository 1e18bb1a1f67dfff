/**
 * What the gateway adds to a request: the same reads asked straight of the
 * service (its own port, as the e2e tests and the other benchmarks do), through
 * the service's sidecar, and through the gateway — which verifies the token,
 * checks ownership (for an order: one more service invocation) and goes
 * through its own sidecar. Needs `npm start` running. Sequential requests, so
 * the figures are latencies, not throughput: medians over rounds of the
 * per-round p50 and p95, modes interleaved in each round.
 *   npm run loadtest:gateway -- [--rounds 5] [--requests 100]
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { insiderHeaders } from '../local/src/api-tokens.ts';
import { gateway, services } from '../local/src/topology.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '100' } },
});
const rounds = Number(args.rounds);
const requests = Number(args.requests);
const log = (line: string) => console.log(`[gateway] ${line}`);

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of our own services
async function json(method: string, url: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: {
      ...insiderHeaders(url),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

interface Buyer {
  userId: string;
  token: string;
  orderId: string;
}

/** A product, and ten buyers (signed up through the gateway) with one completed order each. */
async function fixtures(): Promise<{ productId: string; buyers: Buyer[] }> {
  const admin = await json('POST', `${gateway.appUrl}/auth/login`, {
    email: 'admin@example.com',
    password: 'admin-demo-pass',
  });
  const product = await json(
    'POST',
    `${gateway.appUrl}/products`,
    { name: `Gateway bench ${randomUUID().slice(0, 6)}`, price: 1000, stock: 1000 },
    admin.accessToken,
  );
  const buyers = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const email = `bench-${randomUUID()}@example.com`;
      await json('POST', `${gateway.appUrl}/users`, { email, name: 'Bench', password: 'bench-password' });
      const signedIn = await json('POST', `${gateway.appUrl}/auth/login`, {
        email,
        password: 'bench-password',
      });
      const { orderId } = await json(
        'POST',
        `${gateway.appUrl}/orders`,
        { userId: signedIn.userId, items: [{ productId: product.id, quantity: 1 }] },
        signedIn.accessToken,
      );
      return {
        userId: signedIn.userId as string,
        token: signedIn.accessToken as string,
        orderId: orderId as string,
      };
    }),
  );
  return { productId: product.id, buyers };
}

interface Mode {
  route: string;
  mode: 'app' | 'sidecar' | 'gateway';
  url: (buyer: Buyer) => string;
  token?: (buyer: Buyer) => string;
}

function modes(productId: string): Mode[] {
  const viaSidecar = (service: keyof typeof services, path: string) =>
    `${services[service].daprUrl}/v1.0/invoke/${service}/method${path}`;
  const routes: {
    route: string;
    service: keyof typeof services;
    path: (b: Buyer) => string;
    signedIn: boolean;
  }[] = [
    {
      route: 'GET /products/:id (anyone)',
      service: 'product',
      path: () => `/products/${productId}`,
      signedIn: false,
    },
    {
      route: 'GET /users/:id/points (own id)',
      service: 'user',
      path: (b) => `/users/${b.userId}/points`,
      signedIn: true,
    },
    {
      route: 'GET /orders/:id (owner checked in the answer)',
      service: 'order',
      path: (b) => `/orders/${b.orderId}`,
      signedIn: true,
    },
  ];
  return routes.flatMap((r): Mode[] => [
    { route: r.route, mode: 'app', url: (b) => `${services[r.service].appUrl}${r.path(b)}` },
    { route: r.route, mode: 'sidecar', url: (b) => viaSidecar(r.service, r.path(b)) },
    {
      route: r.route,
      mode: 'gateway',
      url: (b) => `${gateway.appUrl}${r.path(b)}`,
      ...(r.signedIn ? { token: (b: Buyer) => b.token } : {}),
    },
  ]);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/** `requests` sequential calls, buyers in turn (each stays well under the gateway's per-user limit). */
async function measure(mode: Mode, buyers: Buyer[]): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const buyer = buyers[i % buyers.length]!;
    const started = performance.now();
    const url = mode.url(buyer);
    const res = await fetch(url, {
      headers: mode.token ? { authorization: `Bearer ${mode.token(buyer)}` } : insiderHeaders(url),
    });
    await res.arrayBuffer();
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${mode.route} via ${mode.mode} answered ${res.status}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

async function main() {
  const ready = await fetch(`${gateway.appUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready) throw new Error(`the gateway at ${gateway.appUrl} is not ready: run \`npm start\` first`);
  log('signing up ten buyers, each with one order…');
  const { productId, buyers } = await fixtures();
  const all = modes(productId);
  const results = new Map<Mode, { p50: number[]; p95: number[] }>(all.map((m) => [m, { p50: [], p95: [] }]));
  // One warm-up pass (connections, the gateway's copy of the JWKS), not counted.
  for (const mode of all) await measure(mode, buyers);
  for (let round = 1; round <= rounds; round++) {
    // Interleaved, in a different order each round, so that the machine's noise falls on every mode.
    for (const mode of [...all].sort(() => Math.random() - 0.5)) {
      const r = await measure(mode, buyers);
      results.get(mode)!.p50.push(r.p50);
      results.get(mode)!.p95.push(r.p95);
      await sleep(500); // the per-user buckets fill up again
    }
    log(`round ${round}/${rounds} done`);
  }
  const fmt = (ms: number) => ms.toFixed(2);
  console.log(
    `\n${requests} sequential requests per mode and round, ${rounds} rounds; medians of the rounds' p50 / p95, ms\n`,
  );
  console.log(
    '| route | service itself | its sidecar | gateway | gateway adds (p50, vs the service itself) |',
  );
  console.log('|---|---|---|---|---|');
  for (const route of [...new Set(all.map((m) => m.route))]) {
    const of = (mode: Mode['mode']) => results.get(all.find((m) => m.route === route && m.mode === mode)!)!;
    const cell = (mode: Mode['mode']) => `${fmt(median(of(mode).p50))} / ${fmt(median(of(mode).p95))}`;
    const added = median(of('gateway').p50) - median(of('app').p50);
    console.log(`| ${route} | ${cell('app')} | ${cell('sidecar')} | ${cell('gateway')} | +${fmt(added)} |`);
  }
}

await main();
