import { join } from 'node:path';
import { ROOT } from '../src/paths.ts';

export const CHART = join(ROOT, 'charts', 'shop');

/**
 * `helm template` of charts/shop as release `shop` in namespace `shop`, with
 * Dapr's CRDs taken as present (the chart refuses to render without them).
 */
export const chartTemplateArgs = (extra: string[] = [], chart = CHART) => [
  'template',
  'shop',
  chart,
  '--namespace',
  'shop',
  '--api-versions',
  'dapr.io/v1alpha1/Component',
  ...extra,
];
