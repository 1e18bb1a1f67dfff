/**
 * Observability on the real stack: one order is one trace in Zipkin, from the
 * client's POST through the workflow, every saga activity, every service it
 * calls, the outbox publish and the consumers; its log lines carry that trace
 * id; and the metrics endpoints show the saga's counters moving.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { call, eventually, gateway, services } from '@shop/testkit';
import { parse } from 'yaml';
import { LOGS, ROOT } from '../src/paths.ts';
import { zipkin } from '../src/topology.ts';
import { appUrl, couponFor, newProduct, newUser, placeOrder, settled } from './shop-fixtures.ts';

jest.setTimeout(180_000);

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
}

/** `service: span name` of every span of the trace Zipkin holds (Zipkin lower-cases both). */
async function spansOf(traceId: string): Promise<string[]> {
  const res = await call<ZipkinSpan[]>('GET', `${zipkin.url}/api/v2/trace/${traceId}`);
  if (res.status !== 200) return [];
  return res.body.map((s) => `${s.localEndpoint?.serviceName}: ${s.name}`);
}

/** Waits until the trace holds every expected span (they arrive in batches), then checks it. */
async function expectTrace(traceId: string, expected: string[]): Promise<string[]> {
  const complete = () => spansOf(traceId).then((spans) => expected.every((e) => spans.includes(e)) && spans);
  const spans = await eventually(`trace ${traceId} to hold every span`, complete, 30_000).catch(() =>
    spansOf(traceId),
  );
  expect(spans).toEqual(expect.arrayContaining(expected));
  return spans;
}

const logLines = (process: string, traceId: string) =>
  readFileSync(join(LOGS, `${process}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(traceId))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('one order, one trace', () => {
  test('When an order with a coupon and points goes through, then Zipkin holds one trace with the workflow, a span for every saga step, every service hop, the outbox publish and the consumers', async () => {
    const userId = await newUser(50_000);
    const productId = await newProduct(20_000, 10);
    const couponId = await couponFor(userId);
    // The client starts the trace: its id is known before the order exists.
    const traceId = randomBytes(16).toString('hex');
    const orderId = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }], couponId, pointsToUse: 1000 },
      { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    );
    expect((await settled(orderId)).status).toBe('COMPLETED');

    // The saga's activities: using the coupon records its discount too (steps 1-2), and the
    // capture ends the order (steps 6-7).
    const steps = ['useCoupon', 'deductStock', 'startPayment', 'deductPoints', 'captureAndComplete'];
    const spans = await expectTrace(
      traceId,
      [
        // The request, and the workflow as the order's sidecar records it.
        'order: post /orders',
        'order: orchestration||placeorderworkflow',
        // Every saga activity: the sidecar's activity span and the order service's own.
        ...steps.flatMap((s) => [
          `order: activity||${s.toLowerCase()}`,
          `order: activity ${s.toLowerCase()}`,
        ]),
        // Every service the saga calls, in the service itself.
        'coupon: post /saga/coupons/use',
        'product: post /saga/stock/deduct',
        'payment: post /saga/payments/start',
        'user: post /saga/points/deduct',
        'payment: post /saga/payments/complete',
        // OrderCompleted: out of the outbox, through Kafka, into its consumers.
        'order: publish order-events',
        'product: consume ordercompleted',
        'user: consume ordercompleted',
      ].map((s) => s.toLowerCase()),
    );
    // The services' own events of the order (StockDeducted, PointsUsed...) are in it too.
    expect(spans).toEqual(
      expect.arrayContaining(['product: publish product-events', 'user: publish user-events']),
    );

    // Its log lines lead to it: the order service's activities and the product service's consumer.
    expect(
      logLines('order', traceId)
        .filter((l) => l.msg === 'activity')
        .map((l) => l.activity),
    ).toEqual(expect.arrayContaining(steps));
    expect(
      logLines('product', traceId).some((l) => l.msg === 'event applied' && l.eventType === 'OrderCompleted'),
    ).toBe(true);
  });
});

type Series = Map<string, number>;

/** A Prometheus text page, as the app serves it. */
async function metricsPage(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return res.text();
}

/** A Prometheus text page as `name{label="v",…}` → value (labels in the order they are printed). */
function seriesOf(page: string): Series {
  const series: Series = new Map();
  for (const line of page.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    if (m) series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return series;
}

const scrape = async (url: string) => seriesOf(await metricsPage(url));

/** The value of the series named `name` whose labels include all of `labels` (0 when there is none). */
const value = (series: Series, name: string, labels: Record<string, string> = {}) => {
  let sum = 0;
  for (const [key, v] of series) {
    if (!(key === name || key.startsWith(`${name}{`))) continue;
    if (Object.entries(labels).every(([k, l]) => key.includes(`${k}="${l}"`))) sum += v;
  }
  return sum;
};

describe('metrics', () => {
  test("When orders complete and fail, then the order service's /metrics shows steps started, failed and compensated, orders by status and requests, next to the sidecar's own", async () => {
    const metricsUrl = appUrl('order', '/metrics');
    const before = await scrape(metricsUrl);
    const userId = await newUser(0);
    const productId = await newProduct(12_000, 10);
    const completed = await placeOrder({ userId, items: [{ productId, quantity: 1 }] });
    const declined = await placeOrder(
      { userId, items: [{ productId, quantity: 1 }] },
      { 'x-fake-gateway': 'fail' },
    );
    expect((await settled(completed)).status).toBe('COMPLETED');
    expect((await settled(declined)).status).toBe('FAILED');

    const after = await scrape(metricsUrl);
    const moved = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(moved('saga_step_states_total', { step: 'deductStock', state: 'running' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(moved('saga_step_states_total', { step: 'startPayment', state: 'failed' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      moved('saga_step_states_total', { step: 'deductStock', state: 'compensated' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('orders_ended_total', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(moved('orders_ended_total', { status: 'FAILED' })).toBeGreaterThanOrEqual(1);
    expect(
      moved('http_server_request_duration_seconds_count', { route: '/orders', method: 'POST' }),
    ).toBeGreaterThanOrEqual(2);
    // Read from the database at scrape time: every status is there, NEEDS_ATTENTION included.
    expect(value(after, 'orders', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(after.has('orders{status="NEEDS_ATTENTION",app_id="order"}')).toBe(true);
    expect(after.has('outbox_backlog_events{app_id="order"}')).toBe(true);
    expect(after.has('outbox_oldest_unpublished_age_seconds{app_id="order"}')).toBe(true);

    // The coupon service's requests by state, and the sidecar's own metrics on its port.
    const coupon = await scrape(appUrl('coupon', '/metrics'));
    expect(coupon.has('coupon_requests{status="QUEUED",reason="",app_id="coupon"}')).toBe(true);
    const sidecar = await scrape(`http://127.0.0.1:${services.order.daprMetricsPort}/metrics`);
    expect(
      value(sidecar, 'dapr_runtime_service_invocation_req_sent_total', { dst_app_id: 'payment' }),
    ).toBeGreaterThan(0);
  });
});

describe('retention', () => {
  test('When a service with a database has started, then it has swept its tables’ retention once already, and says so on /metrics', async () => {
    const tables = ['inbox', 'outbox', 'dead_letters'];
    for (const name of ['user', 'product', 'coupon', 'payment', 'order'] as const) {
      const series = await scrape(appUrl(name, '/metrics'));
      const swept = [...series.keys()]
        .filter((s) => s.startsWith('retention_deleted_rows_total{'))
        .map((s) => /table="(\w+)"/.exec(s)?.[1]);
      expect({ name, swept: swept.sort() }).toEqual({
        name,
        swept: (name === 'order' ? [...tables, 'order_exports'] : tables).sort(),
      });
    }
  });
});

describe('the alerting rules watch real series', () => {
  test('When every service is scraped, then each series the chart’s alerting rules watch is exported, with the labels they match and group by', async () => {
    const urls = [
      ...(['user', 'product', 'coupon', 'payment', 'order'] as const).map((name) => appUrl(name, '/metrics')),
      // The gateway's, off its public port (which has no /metrics).
      `http://127.0.0.1:${gateway.metricsPort}/metrics`,
    ];
    expect((await fetch(`${gateway.appUrl}/metrics`)).status).toBe(404);
    const texts = await Promise.all(urls.map(metricsPage));
    const exported = texts.flatMap((page) => [...seriesOf(page).keys()]);
    // A gauge with nothing to count now (no dead letter waits) is declared, with no series.
    const declared = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)));
    const { groups } = parse(readFileSync(join(ROOT, 'charts', 'shop', 'alerts', 'shop.rules.yaml'), 'utf8'));
    const rules: { alert: string; expr: string }[] = groups.flatMap((g: { rules: unknown[] }) => g.rules);
    expect(rules.length).toBeGreaterThan(4);
    expect(
      exported.some(
        (s) => s.startsWith('http_server_request_duration_seconds_count{') && s.includes('app_id="gateway"'),
      ),
    ).toBe(true);
    for (const { alert, expr } of rules) {
      for (const { metric, labels } of selectorsOf(expr)) {
        // A histogram is exported as its _count, _sum and _bucket series.
        const matching = exported.filter((s) => s.startsWith(`${metric}{`));
        const base = metric.replace(/_(count|sum|bucket)$/, '');
        expect({ alert, metric, declared: declared.has(metric) || declared.has(base) }).toEqual({
          alert,
          metric,
          declared: true,
        });
        if (matching.length === 0) continue;
        for (const [label, wanted] of labels) {
          const has = matching.some((s) =>
            wanted === undefined ? s.includes(`${label}="`) : s.includes(`${label}="${wanted}"`),
          );
          expect({ alert, metric, label, wanted, has }).toEqual({ alert, metric, label, wanted, has: true });
        }
      }
    }
  });
});

/**
 * The series an expression selects: each metric name with the labels it
 * matches on (an exact value, or any for a regex) and those it groups by.
 */
function selectorsOf(expr: string): { metric: string; labels: [string, string | undefined][] }[] {
  const groupedBy = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()),
  );
  const bare = expr.replace(/\bby\s*\([^)]*\)/g, '').replace(/\[[^\]]*\]/g, '');
  const found: { metric: string; labels: [string, string | undefined][] }[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    const [, name, matchers, call] = m;
    if (call || /^(by|and|or|unless|on|ignoring)$/.test(name!) || /^\d/.test(name!)) continue;
    const labels: [string, string | undefined][] = [
      ...(matchers ?? '').matchAll(/(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"/g),
    ].map(([, label, op, value]) => [label!, op === '=' ? value : undefined]);
    found.push({
      metric: name!,
      labels: [...labels, ...groupedBy.map((l): [string, undefined] => [l, undefined])],
    });
  }
  return found;
}
