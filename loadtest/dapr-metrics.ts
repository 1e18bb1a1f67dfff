/**
 * How often the Dapr parts are used during a benchmark: the counters of each
 * sidecar's and the scheduler's Prometheus endpoint, read before and after,
 * and printed per unit of work (e.g. per completed saga). Counts, not times:
 * they say how many round trips a saga makes, whatever the machine's speed.
 */
import { placement, scheduler, serviceList } from '../local/src/topology.ts';
import { table } from '../local/src/ui.ts';

/** Counter value per "<process> <metric> <label that says what was called>". */
export type DaprCounters = Map<string, number>;

/** The label that names the operation, first found; the others (status, app id…) are summed over. */
const OPERATION_LABELS = [
  'grpc_server_method',
  'grpc_client_method',
  'method',
  'operation',
  'activity_name',
  'workflow_name',
  'type',
  'topic',
];

/** Counters worth a line: calls between app, sidecar, other sidecars and the control plane, and the workflow engine's own. */
const COUNTED =
  /^(dapr_http_server_request_count|dapr_http_client_completed_count|dapr_grpc_io_server_completed_rpcs|dapr_grpc_io_client_completed_rpcs|dapr_runtime_workflow_(execution|activity_execution|operation)_count|dapr_component_\w+(ingress|egress)_count|dapr_runtime_actor_\w+_total|dapr_scheduler_\w+_total|dapr_placement_\w+_total)$/;

function parse(process: string, text: string, into: DaprCounters): void {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || !COUNTED.test(m[1]!)) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const operation = OPERATION_LABELS.map((l) => labels[l]).find(Boolean) ?? '';
    const key = `${process}\t${m[1]}\t${operation}`;
    into.set(key, (into.get(key) ?? 0) + Number(m[3]));
  }
}

export async function daprCounters(): Promise<DaprCounters> {
  const endpoints = [
    ...serviceList.map((s) => [`${s.name}-dapr`, s.daprMetricsPort] as const),
    ['scheduler', scheduler.metricsPort] as const,
    ['placement', placement.metricsPort] as const,
  ];
  const counters: DaprCounters = new Map();
  await Promise.all(
    endpoints.map(async ([name, port]) => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      parse(name, text, counters);
    }),
  );
  return counters;
}

/** The counters that moved by at least `min` per unit, by process, most first. */
export function daprCountersTable(
  before: DaprCounters,
  after: DaprCounters,
  units: number,
  unit: string,
  min = 0.5,
): string {
  const rows = [...after]
    .map(([key, v]) => [key.split('\t'), (v - (before.get(key) ?? 0)) / Math.max(units, 1)] as const)
    .filter(([, perUnit]) => perUnit >= min)
    .sort((a, b) => a[0][0]!.localeCompare(b[0][0]!) || b[1] - a[1]);
  return table([
    ['process', 'counter', 'operation', `per ${unit}`],
    ...rows.map(([[process, metric, operation], perUnit]) => [
      process!,
      metric!.replace(/^dapr_/, ''),
      operation!,
      perUnit.toFixed(1),
    ]),
  ]);
}
