/**
 * The chart's alerting rules (charts/shop/alerts/shop.rules.yaml): valid for
 * Prometheus, each one firing when and only when k8s/test/alerts/ says (promtool,
 * built from Prometheus's Go module), and shipped by the chart as a
 * PrometheusRule where the Prometheus Operator is installed, as a ConfigMap
 * holding the very file elsewhere. `npm test` provisions the tools.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { chartTemplateArgs, provisionedTool } from '@shop/testkit';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const HELM = provisionedTool('SHOP_HELM');
const PROMTOOL = provisionedTool('SHOP_PROMTOOL');
const RULES = join(ROOT, 'charts', 'shop', 'alerts', 'shop.rules.yaml');

const run = (command: string, args: string[]) =>
  spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });

/** The chart's objects that carry the rules (a PrometheusRule or the ConfigMap shop-prometheus-rules). */
function rendered(extra: string[]): any[] {
  const r = run(HELM, chartTemplateArgs(extra));
  if (r.status !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .filter((o) => o?.kind === 'PrometheusRule' || o?.metadata?.name === 'shop-prometheus-rules');
}

describe('the alerting rules', () => {
  test('When promtool checks the rule file, then every rule is valid', () => {
    const r = run(PROMTOOL, ['check', 'rules', RULES]);
    expect(r.stderr + r.stdout).toMatch(/SUCCESS: 8 rules found/);
    expect(r.status).toBe(0);
  });

  test('When promtool runs the rules against their test series, then each alert fires after its `for` and only on what it watches', () => {
    const r = run(PROMTOOL, ['test', 'rules', join(ROOT, 'k8s', 'test', 'alerts', 'shop.rules.test.yaml')]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('When the Prometheus Operator is installed, then the chart ships the rules as a PrometheusRule with the given labels; otherwise as a ConfigMap holding the file; none when turned off', () => {
    const rules = parse(readFileSync(RULES, 'utf8'));
    const operator = rendered([
      '--api-versions',
      'monitoring.coreos.com/v1/PrometheusRule',
      '--set',
      'observability.alerts.labels.release=kube-prometheus-stack',
    ]);
    expect(operator).toHaveLength(1);
    expect(operator[0].kind).toBe('PrometheusRule');
    expect(operator[0].metadata.labels.release).toBe('kube-prometheus-stack');
    expect(operator[0].spec).toEqual(rules);

    const plain = rendered([]);
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'shop-prometheus-rules' } });
    expect(plain[0].data['shop.rules.yaml']).toBe(readFileSync(RULES, 'utf8').trimEnd());

    expect(rendered(['--set', 'observability.alerts.enabled=false'])).toEqual([]);
  });
});
