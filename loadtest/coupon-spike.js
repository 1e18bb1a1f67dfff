// k6 spike on first-come-first-served coupon issuance (open model).
//   k6 run -e BASE_URL=http://127.0.0.1:3103 [-e APP_TOKEN=<token>] -e COUPON_ID=<id> -e USERS_FILE=<json array> \
//          -e PEAK_RATE=1500 -e HOLD_S=10 -e SUMMARY_FILE=<out.json> loadtest/coupon-spike.js
// Usually started by loadtest/run-coupon-spike.ts, which prepares the coupon and
// the users, runs this against the coupon service and the baseline, and checks
// the invariants afterwards.
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';

// One copy for all VUs: 20,000 ids parsed per VU would cost hundreds of MB at a thousand VUs.
const users = new SharedArray('users', () => JSON.parse(open(__ENV.USERS_FILE)));
const peak = Number(__ENV.PEAK_RATE || 1500);
// The coupon service's port answers only with its sidecar's token (APP_TOKEN); the baseline needs none.
const appToken = __ENV.APP_TOKEN ? { 'dapr-api-token': __ENV.APP_TOKEN } : {};
const holdS = Number(__ENV.HOLD_S || 10);
const accepted = new Counter('accepted_requests');
const rateLimited = new Counter('rate_limited_requests');
const serverErrors = new Counter('server_error_requests');
const unanswered = new Counter('unanswered_requests');
const acceptedLatency = new Trend('accepted_latency', true);

export const options = {
  discardResponseBodies: true,
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: Math.ceil(peak / 20),
      timeUnit: '1s',
      // A third of a second's worth of arrivals up front; k6 starts more as answers slow down (a
      // second's worth up front measured worse: the VUs cost k6 CPU the services then lacked).
      preAllocatedVUs: Math.min(1000, Math.ceil(peak / 3)),
      maxVUs: 3000,
      stages: [
        { target: Math.ceil(peak / 20), duration: '3s' }, // quiet before the drop
        { target: peak, duration: '1s' }, // the drop opens
        { target: peak, duration: `${holdS}s` },
        { target: 0, duration: '1s' },
      ],
    },
  },
  summaryTrendStats: ['med', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const i = exec.scenario.iterationInTest;
  // One in ten requests repeats an earlier user: double clicks and retries.
  const user = i % 10 === 9 ? users[Math.floor(i / 10) % users.length] : users[i % users.length];
  const res = http.post(
    `${__ENV.BASE_URL}/coupons/${__ENV.COUPON_ID}/issue`,
    JSON.stringify({ userId: user }),
    {
      headers: { 'content-type': 'application/json', ...appToken },
      timeout: '10s',
    },
  );
  if (res.status === 202) {
    accepted.add(1);
    acceptedLatency.add(res.timings.duration);
  } else if (res.status === 429) rateLimited.add(1);
  else if (res.status >= 500) serverErrors.add(1);
  // Refused or cut off: the service was down (a kill), the client knows it was not accepted.
  else if (res.status === 0) unanswered.add(1);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE]: JSON.stringify(data) };
}
