// k6: the cost of Dapr's sidecars on one service call, measured side by side.
//   k6 run -e DIRECT_URL=… -e ONE_SIDECAR_URL=… -e TWO_SIDECARS_URL=… -e DAPR_TOKEN=… -e RATE=200 -e SUMMARY_FILE=<out.json> loadtest/sidecar-hop.js
// Usually started by loadtest/run-sidecar-hop.ts. The three paths reach the same
// handler (a service's /healthz, which touches no database) at the same rate, at
// the same time, so the machine's noise falls on all three alike:
//   direct        caller → app
//   one sidecar   caller → the app's own daprd → app
//   two sidecars  caller → the caller's daprd → the app's daprd → app (service invocation)
import http from 'k6/http';

const rate = Number(__ENV.RATE || 200);
const paths = {
  direct: __ENV.DIRECT_URL,
  one_sidecar: __ENV.ONE_SIDECAR_URL,
  two_sidecars: __ENV.TWO_SIDECARS_URL,
};

const scenario = (path) => ({
  executor: 'constant-arrival-rate',
  rate,
  timeUnit: '1s',
  duration: __ENV.DURATION || '30s',
  preAllocatedVUs: 20,
  maxVUs: 200,
  exec: 'call',
  env: { HOP_PATH: path },
  tags: { hop: path },
});

export const options = {
  scenarios: Object.fromEntries(Object.keys(paths).map((p) => [p, scenario(p)])),
  // A threshold per path makes k6 keep that path's own latency figures in the summary.
  thresholds: Object.fromEntries(
    Object.keys(paths).flatMap((p) => [
      [`http_req_duration{hop:${p}}`, ['max>=0']],
      [`http_req_failed{hop:${p}}`, ['rate>=0']],
    ]),
  ),
  summaryTrendStats: ['med', 'p(90)', 'p(99)', 'max'],
};

// The sidecars demand the Dapr API token; the app's /healthz is open to probes.
const sidecarHeaders = { headers: { 'dapr-api-token': __ENV.DAPR_TOKEN || '' } };

export function call() {
  http.get(paths[__ENV.HOP_PATH], __ENV.HOP_PATH === 'direct' ? {} : sidecarHeaders);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE]: JSON.stringify(data) };
}
