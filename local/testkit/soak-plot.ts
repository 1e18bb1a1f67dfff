/**
 * The soak's curves as one PNG: a panel per group of series (memory of the
 * services, the sidecars and the infrastructure, event-loop lag, rows kept,
 * Redis keys, work waiting), each line against the run's minutes, the
 * warm-up shaded. Drawn as SVG and photographed by the headless Chromium the
 * storefront's tests use (no plotting library, no fonts to ship).
 */
import { chromium } from 'playwright-core';
import { ensureChromium } from '../src/provision-chromium.ts';
import type { Series, Verdict } from './soak.ts';

const W = 620;
const H = 300;
const PAD = { left: 60, right: 12, top: 28, bottom: 34 };
const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

function panel(title: string, minutes: number[], series: Series[], verdicts: Map<string, Verdict>): string {
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1e-9, ...all) * 1.1;
  const tMax = Math.max(1e-9, minutes.at(-1) ?? 1);
  const x = (t: number) => PAD.left + (t / tMax) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const warm = minutes[Math.floor(minutes.length / 3)] ?? 0;
  const lines = series.map((s, i) => {
    const points = s.values.map((v, j) => `${x(minutes[j] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6" points="${points}"/>`;
  });
  const legend = series.map((s, i) => {
    const v = verdicts.get(s.name);
    const mark = v ? (v.grew ? ' GREW' : '') : '';
    return `<tspan x="${PAD.left + 6}" dy="${i === 0 ? 0 : 11}" fill="${COLORS[i % COLORS.length]}">${esc(s.name)}${mark}</tspan>`;
  });
  const ticks = [0, 0.5, 1].map(
    (f) =>
      `<text x="${PAD.left - 4}" y="${y(max * f) + 4}" text-anchor="end">${fmt(max * f)}</text>` +
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eee"/>`,
  );
  const unit = series[0]?.unit ?? '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">
  <rect width="${W}" height="${H}" fill="white"/>
  <rect x="${PAD.left}" y="${PAD.top}" width="${x(warm) - PAD.left}" height="${H - PAD.top - PAD.bottom}" fill="#f4f4f4"/>
  ${ticks.join('\n  ')}
  <text x="${PAD.left}" y="16" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>
  <text x="${(W + PAD.left) / 2}" y="${H - 6}" text-anchor="middle">minutes (grey: warm-up)</text>
  <text x="${x(tMax)}" y="${H - PAD.bottom + 12}" text-anchor="end">${fmt(tMax)}</text>
  <line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#999"/>
  <line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#999"/>
  ${lines.join('\n  ')}
  <text y="${PAD.top + 10}">${legend.join('')}</text>
</svg>`;
}

export async function plotSoak(
  file: string,
  minutes: number[],
  series: Series[],
  judged: Verdict[],
): Promise<void> {
  const verdicts = new Map(judged.map((v) => [v.series, v]));
  const panels = [...new Set(series.map((s) => s.panel))].map((name) =>
    panel(
      name,
      minutes,
      series.filter((s) => s.panel === name),
      verdicts,
    ),
  );
  const html = `<!doctype html><html><body style="margin:0;display:grid;grid-template-columns:repeat(2,${W}px);gap:4px;background:#ddd">${panels.join('')}</body></html>`;
  const browser = await chromium.launch({ executablePath: await ensureChromium(), args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 2 * W + 4, height: 400 } });
    await page.setContent(html);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}
