/**
 * What a Dapr sidecar adds to one service call, on this machine: the same
 * cheap handler (product's /healthz) reached directly, through its own
 * sidecar, and through two sidecars (order's daprd invoking product), at the
 * same rate in the same run (loadtest/sidecar-hop.js). Prints p50/p90/p99 of
 * each path and what each sidecar hop adds. Needs `npm start` running.
 *   npm run loadtest:hop -- [--rate 200] [--duration 30s]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localApiTokens } from '../local/src/api-tokens.ts';
import { ROOT } from '../local/src/paths.ts';
import { provision } from '../local/src/provision.ts';
import { services } from '../local/src/topology.ts';
import { table } from '../local/src/ui.ts';
import { runK6 } from './k6.ts';

const { values: args } = parseArgs({
  options: { rate: { type: 'string', default: '200' }, duration: { type: 'string', default: '30s' } },
});
/** Dapr's published figure for service invocation through two sidecars (docs, "Service invocation performance"). */
const DAPR_PUBLISHED_P50_MS = 1.06;

async function main() {
  const target = services.product;
  const ready = await fetch(`${target.appUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready)
    throw new Error('the local platform is not running: start it with `npm start` in another terminal');
  const tools = await provision({ needExternal: { postgres: true, redis: true, kafka: true } });
  const urls = {
    direct: `${target.appUrl}/healthz`,
    one_sidecar: `${target.daprUrl}/v1.0/invoke/${target.appId}/method/healthz`,
    two_sidecars: `${services.order.daprUrl}/v1.0/invoke/${target.appId}/method/healthz`,
  };
  console.log(
    `[hop] ${args.rate}/s on each of three paths to ${target.appId}'s /healthz for ${args.duration}…`,
  );
  const summary = await runK6(tools.k6, 'sidecar-hop.js', {
    DIRECT_URL: urls.direct,
    ONE_SIDECAR_URL: urls.one_sidecar,
    TWO_SIDECARS_URL: urls.two_sidecars,
    DAPR_TOKEN: localApiTokens().dapr,
    RATE: args.rate,
    DURATION: args.duration,
  });
  const figures = Object.fromEntries(
    Object.keys(urls).map((path) => {
      const latency = summary.metrics[`http_req_duration{hop:${path}}`]!.values;
      const failed = summary.metrics[`http_req_failed{hop:${path}}`]!.values;
      return [
        path,
        {
          requests: (failed.passes ?? 0) + (failed.fails ?? 0),
          failed: failed.passes ?? 0,
          p50: latency.med as number,
          p90: latency['p(90)'] as number,
          p99: latency['p(99)'] as number,
        },
      ];
    }),
  ) as Record<keyof typeof urls, { requests: number; failed: number; p50: number; p90: number; p99: number }>;
  const ms = (v: number) => v.toFixed(2);
  const added = (a: keyof typeof urls, b: keyof typeof urls, q: 'p50' | 'p90' | 'p99') =>
    ms(figures[a][q] - figures[b][q]);
  console.log(`
${table([
  ['path', 'requests', 'failed', 'p50 ms', 'p90 ms', 'p99 ms'],
  ...Object.entries(figures).map(([path, f]) => [
    path.replace('_', ' '),
    String(f.requests),
    String(f.failed),
    ms(f.p50),
    ms(f.p90),
    ms(f.p99),
  ]),
])}

added by the app's own sidecar        p50 +${added('one_sidecar', 'direct', 'p50')} ms, p99 +${added('one_sidecar', 'direct', 'p99')} ms
added by two sidecars (invocation)    p50 +${added('two_sidecars', 'direct', 'p50')} ms, p99 +${added('two_sidecars', 'direct', 'p99')} ms
per sidecar hop (two sidecars / 2)    p50 +${ms((figures.two_sidecars.p50 - figures.direct.p50) / 2)} ms
Dapr's published figures          p50 +${DAPR_PUBLISHED_P50_MS} ms (as quoted in issue #13); v1.0 docs: p90 +1.40 ms, p99 +2.10 ms (1,000 req/s, 1 KB, mTLS)
`);
  const at = new Date().toISOString();
  mkdirSync(join(ROOT, 'loadtest', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'loadtest', 'results', `sidecar-hop-${at.replaceAll(':', '-')}.json`),
    JSON.stringify({ at, rate: Number(args.rate), duration: args.duration, figures }, null, 2),
  );
}

await main();
