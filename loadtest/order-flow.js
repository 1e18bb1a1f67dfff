// k6 order flow: orders placed at a steady arrival rate, each followed until it ends.
//   k6 run -e BASE_URL=http://127.0.0.1:3100 (the gateway; or the order service's port with -e APP_TOKEN=<token>) -e FIXTURES=<json> -e RATE=10 [-e POLL_MS=250] -e SUMMARY_FILE=<out.json> loadtest/order-flow.js
// Usually started by loadtest/run-order-flow.ts, which prepares users and products,
// then checks the invariants and prints the figures.

import { sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';

const fixtures = JSON.parse(open(__ENV.FIXTURES));
// Through the gateway, each buyer sends their own access token (in the fixtures). Straight to
// the order service (BASE_URL its port), the service's port answers only with its sidecar's
// token (APP_TOKEN), which this insider holds.
const appToken = { 'dapr-api-token': __ENV.APP_TOKEN || '' };
const credentialsOf = (user) => (user.token ? { authorization: `Bearer ${user.token}` } : appToken);
// Through the gateway: its own share of each request, the client's time less the time the
// service behind took (the gateway's Server-Timing `upstream`).
const gatewayShare = {
  post: new Trend('gateway_share_post', true),
  get: new Trend('gateway_share_get', true),
};
function noteGatewayShare(trend, res) {
  const upstream = /upstream;dur=([\d.]+)/.exec(res.headers['Server-Timing'] || '');
  if (upstream) trend.add(res.timings.duration - Number(upstream[1]));
}
const rate = Number(__ENV.RATE || 10);
// Each buyer watches their order as the SSE stream does (it reads the order every 250 ms).
const pollSeconds = Number(__ENV.POLL_MS || 250) / 1000;
const sagaDuration = new Trend('saga_duration', true);
const completed = new Counter('orders_completed');
const failed = new Counter('orders_failed');
const compensated = new Counter('orders_compensated');
const unfinished = new Counter('orders_unfinished');

export const options = {
  scenarios: {
    orders: {
      executor: 'ramping-arrival-rate',
      startRate: Math.ceil(rate / 4),
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 2000,
      // Every order placed is followed to its end, however long the saga takes: cutting the
      // slow ones off would leave them out of the percentiles.
      gracefulStop: '600s',
      stages: [
        { target: rate, duration: '5s' },
        { target: rate, duration: '20s' },
        { target: 0, duration: '3s' },
      ],
    },
  },
  summaryTrendStats: ['med', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const i = exec.scenario.iterationInTest;
  const user = fixtures.users[i % fixtures.users.length];
  const product = fixtures.products[i % fixtures.products.length];
  // Some buyers ask for more points than they have: their sagas compensate.
  const body = {
    userId: user.id,
    items: [{ productId: product, quantity: 1 + (i % 3) }],
    pointsToUse: user.points > 0 ? 1000 : 5000,
  };
  const started = Date.now();
  const res = http.post(`${__ENV.BASE_URL}/orders`, JSON.stringify(body), {
    headers: { 'content-type': 'application/json', ...credentialsOf(user) },
  });
  noteGatewayShare(gatewayShare.post, res);
  if (res.status !== 202) return;
  const orderId = res.json('orderId');
  for (const until = started + 600_000; Date.now() < until; ) {
    sleep(pollSeconds);
    const order = http.get(`${__ENV.BASE_URL}/orders/${orderId}`, {
      headers: credentialsOf(user),
      tags: { name: 'GET /orders/:id' },
    });
    noteGatewayShare(gatewayShare.get, order);
    const status = order.status === 200 ? order.json('status') : 'PENDING';
    if (status === 'PENDING') continue;
    // The end is the order's own time of ending (same clock), not when this poll saw it:
    // the figure does not depend on the polling interval.
    sagaDuration.add(Date.parse(order.json('updatedAt')) - started);
    if (status === 'COMPLETED') completed.add(1);
    else failed.add(1);
    if (order.json('steps').some((s) => s.state === 'compensated')) compensated.add(1);
    return;
  }
  unfinished.add(1);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE]: JSON.stringify(data) };
}
