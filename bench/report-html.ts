// One self-contained HTML page for a `kiteq-bench compare` run: a table of the figures, the
// throughput of each system second by second, and its deliver latency percentile curve, drawn as
// inline SVG (no scripts, fonts or other files, so the page can be mailed or attached to an issue).
import type { PeerUnavailable, PercentilePoint, RoundtripResult } from './result';
import { isUnavailable } from './result';

export interface ReportRun {
  name: string;
  result: RoundtripResult | PeerUnavailable;
}

export const COLORS = Object.freeze(['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']);
const WIDTH = 720;
const HEIGHT = 320;
const MARGIN = { left: 64, right: 16, top: 28, bottom: 44 };

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

export function renderReportHtml(
  runs: ReportRun[],
  title = 'kiteq-bench compare',
  generatedAt = new Date().toISOString(),
): string {
  const measured = runs.filter((run): run is { name: string; result: RoundtripResult } => !isUnavailable(run.result));
  const colorOf = (index: number): string => COLORS[index % COLORS.length];
  const throughput: Series[] = measured.map((run, i) => ({
    name: run.name,
    color: colorOf(i),
    points: run.result.perSecond.map((count, second): [number, number] => [second + 1, count]),
  }));
  const latency: Series[] = measured.map((run, i) => ({
    name: run.name,
    color: colorOf(i),
    points: curveOf(run.result).map(({ percentile, ms }): [number, number] => [ninesOf(percentile), ms]),
  }));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}',
    'td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}',
    'svg text{font-size:11px;font-family:sans-serif}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(generatedAt)}</p>`,
    figuresTable(runs),
    '<h2>Throughput (acked messages per second)</h2>',
    lineChart(throughput, { xLabel: 'second of the publish phase', yLabel: 'msg/s', xTicks: linearTicks }),
    '<h2>Deliver latency by percentile (intended send → consumer)</h2>',
    lineChart(latency, { xLabel: 'percentile', yLabel: 'ms', xTicks: ninesTicks }),
    '</body></html>',
  ].join('\n');
}

function figuresTable(runs: ReportRun[]): string {
  const head =
    '<tr><th>system</th><th>sent</th><th>acked</th><th>failed</th><th>received</th><th>dup</th><th>lost</th><th>stale</th>' +
    '<th>acked/s</th><th>delivered/s</th><th>ack p50 ms</th><th>ack p99 ms</th><th>deliver p50 ms</th><th>deliver p99 ms</th><th>deliver p99.9 ms</th><th>max ms</th></tr>';
  const rows = runs.map(({ name, result }) => {
    if (isUnavailable(result))
      return `<tr><td>${escapeHtml(name)}</td><td colspan="15">unavailable: ${escapeHtml(result.unavailable)}</td></tr>`;
    const cells = [
      result.sent,
      result.acked,
      result.failed,
      result.received,
      result.duplicates,
      result.lost,
      result.stale,
      result.tps,
      result.deliveredPerSec,
      result.publishAck.p50,
      result.publishAck.p99,
      result.deliver.p50,
      result.deliver.p99,
      result.deliver.p999,
      result.deliver.max,
    ];
    return `<tr><td>${escapeHtml(name)}</td>${cells.map((value) => `<td>${formatNumber(value)}</td>`).join('')}</tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function curveOf(result: RoundtripResult): PercentilePoint[] {
  if (result.deliverCurve && result.deliverCurve.length > 0) return result.deliverCurve;
  const s = result.deliver;
  return [
    { percentile: 50, ms: s.p50 },
    { percentile: 90, ms: s.p90 },
    { percentile: 99, ms: s.p99 },
    { percentile: 99.9, ms: s.p999 },
    { percentile: 100, ms: s.max },
  ];
}

/** Percentile on the "nines" axis: 90 → 1, 99 → 2, 99.9 → 3; 100 drawn one step past 99.99. */
const MAX_NINES = 5;
function ninesOf(percentile: number): number {
  if (percentile >= 100) return MAX_NINES;
  return Math.min(MAX_NINES, Math.log10(100 / (100 - percentile)));
}

export type TickFn = (max: number) => Array<{ value: number; label: string }>;

const ninesTicks: TickFn = () =>
  [50, 90, 99, 99.9, 99.99, 100].map((p) => ({ value: ninesOf(p), label: p === 100 ? 'max' : `${p}%` }));

const linearTicks: TickFn = (max) => {
  const step = niceStep(max / 5);
  const ticks = [];
  for (let value = 0; value <= max + step / 2; value += step) ticks.push({ value, label: formatNumber(value) });
  return ticks;
};

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

/** An SVG line chart; `markers` draws each point too (a sweep's few points, bench/scale-report.ts). */
export function lineChart(
  series: Series[],
  axes: { xLabel: string; yLabel: string; xTicks: TickFn; markers?: boolean },
): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map(([x]) => x), axes.xTicks === ninesTicks ? MAX_NINES : 1);
  const yTop = Math.max(1, ...all.map(([, y]) => y));
  const yMax = Math.ceil(yTop / niceStep(yTop / 5)) * niceStep(yTop / 5);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + (x / xMax) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
  ];
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  for (const { value, label } of linearTicks(yMax)) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${r(py(value))}" y2="${r(py(value))}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${MARGIN.left - 6}" y="${r(py(value) + 4)}" text-anchor="end">${escapeHtml(label)}</text>`);
  }
  for (const { value, label } of axes.xTicks(xMax)) {
    parts.push(
      `<text x="${r(px(value))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(axes.xLabel)}</text>`,
  );
  parts.push(
    `<text x="14" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})" text-anchor="middle">${escapeHtml(axes.yLabel)}</text>`,
  );
  let legendX = MARGIN.left; // the legend runs along the top margin, clear of the lines
  for (const s of series) {
    const points = s.points.map(([x, y]) => `${r(px(x))},${r(py(y))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points}"/>`);
    if (axes.markers)
      for (const [x, y] of s.points)
        parts.push(
          `<circle cx="${r(px(x))}" cy="${r(py(y))}" r="3" fill="${s.color}"><title>${formatNumber(y)}</title></circle>`,
        );
    parts.push(`<text x="${legendX}" y="${MARGIN.top - 10}" fill="${s.color}">■ ${escapeHtml(s.name)}</text>`);
    legendX += 7 * s.name.length + 32;
  }
  parts.push('</svg>');
  return parts.join('');
}

const r = (value: number): string => value.toFixed(1);

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1);
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
