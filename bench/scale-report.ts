// What `kiteq-bench scale` prints and writes: a text table per dimension (each row beside the
// dimension's baseline point of the same sweep), and a self-contained HTML page with, per
// dimension, throughput, p99, broker CPU per message and RSS plotted against it (inline SVG, as
// bench/report-html.ts draws the compare report).
import { COLORS, escapeHtml, formatNumber, lineChart, type Series, type TickFn } from './report-html';
import { DIMENSIONS, type Dimension, type ScalePoint } from './scale';

interface Column {
  head: string;
  cell: (p: ScalePoint, base: ScalePoint | undefined) => string;
}

const num = (n: number | undefined): string => (n === undefined ? '-' : formatNumber(n));
const ratio = (ours: number, base: number | undefined): string =>
  base !== undefined && base > 0 ? `${(ours / base).toFixed(2)}×` : '-';

/** How a dimension's values read: 1 MiB, 64 KiB, 10 k, 10 M. */
export function valueLabel(dimension: Dimension, value: number): string {
  if (dimension === 'size') {
    if (value >= 1 << 20 && value % (1 << 20) === 0) return `${value >> 20} MiB`;
    if (value >= 1024 && value % 1024 === 0) return `${value >> 10} KiB`;
    return `${value} B`;
  }
  if (value >= 1e6 && value % 1e6 === 0) return `${value / 1e6} M`;
  if (value >= 1e3 && value % 1e3 === 0) return `${value / 1e3} k`;
  return String(value);
}

function columns(dimension: Dimension): Column[] {
  const cols: Column[] = [
    { head: DIMENSIONS[dimension].unit, cell: (p) => valueLabel(dimension, p.value) + (p.baseline ? ' (base)' : '') },
    { head: 'k×c', cell: (p) => `${p.producers}×${p.inFlight}` },
    { head: 'acked/s', cell: (p) => num(p.ackedPerSec) },
    { head: 'delivered/s', cell: (p) => num(p.deliveredPerSec) },
    { head: '÷ base', cell: (p, b) => ratio(p.deliveredPerSec, b?.deliveredPerSec) },
  ];
  if (dimension === 'groups')
    cols.push(
      { head: 'deliveries/s', cell: (p) => num(p.deliveriesPerSec) },
      { head: 'broker µs/delivery', cell: (p) => num(p.brokerUsPerDelivery) },
    );
  if (dimension === 'size') cols.push({ head: 'MB/s', cell: (p) => num(p.deliveredMBps) });
  cols.push(
    { head: 'deliver p99 ms', cell: (p) => num(p.deliverP99Ms) },
    { head: 'broker µs/msg', cell: (p) => num(p.brokerUsPerMsg) },
    { head: '÷ base', cell: (p, b) => ratio(p.brokerUsPerMsg, b?.brokerUsPerMsg) },
    { head: 'bench µs/msg', cell: (p) => num(p.benchUsPerMsg) },
    { head: 'peak RSS MB', cell: (p) => num(p.brokerPeakRssMb) },
  );
  if (dimension === 'idle')
    cols.push(
      { head: 'RSS idle MB', cell: (p) => num(p.brokerRssMb) },
      { head: 'heartbeat p99 ms', cell: (p) => num(p.heartbeatP99Ms) },
    );
  if (dimension === 'backlog')
    cols.push(
      { head: 'start ms', cell: (p) => num(p.startMs) },
      { head: 'start CPU ms', cell: (p) => num(p.startCpuMs) },
      { head: 'RSS at ready MB', cell: (p) => num(p.brokerRssMb) },
      { head: 'fill s', cell: (p) => num(p.fillSec) },
    );
  cols.push(
    { head: 'lost', cell: (p) => num(p.lost) },
    { head: 'dup', cell: (p) => num(p.duplicates) },
    { head: 'error', cell: (p) => p.error ?? '' },
  );
  return cols;
}

function byDimension(points: ScalePoint[]): Array<[Dimension, ScalePoint[]]> {
  const groups = new Map<Dimension, ScalePoint[]>();
  for (const p of points) groups.set(p.dimension, [...(groups.get(p.dimension) ?? []), p]);
  return [...groups];
}

function rowsOf(dimension: Dimension, points: ScalePoint[]): string[][] {
  const base = points.find((p) => p.baseline && !p.error);
  const cols = columns(dimension);
  return [cols.map((c) => c.head), ...points.map((p) => cols.map((c) => c.cell(p, base)))];
}

/** The text tables, one per dimension. */
export function scaleTable(points: ScalePoint[]): string {
  return byDimension(points)
    .map(([dimension, ps]) => {
      const rows = rowsOf(dimension, ps);
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      const lines = rows.map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
      return `${DIMENSIONS[dimension].title}\n${lines.join('\n')}\n`;
    })
    .join('\n');
}

export interface ScaleReportMeta {
  title: string;
  generatedAt: string;
  /** the command line, the store, the machine's load: shown under the title */
  notes: string[];
}

/** One sweep's points under its own heading and notes (a page may hold several sweeps: kiteq-bench scale-report). */
export interface ScaleRun {
  heading?: string;
  notes: string[];
  points: ScalePoint[];
}

export function renderScaleHtml(points: ScalePoint[], meta: ScaleReportMeta): string {
  return renderScaleRunsHtml([{ notes: meta.notes, points }], meta.title, meta.generatedAt);
}

export function renderScaleRunsHtml(runs: ScaleRun[], title: string, generatedAt: string): string {
  const body = runs.flatMap((run) => [
    ...(run.heading ? [`<h2>${escapeHtml(run.heading)}</h2>`] : []),
    ...run.notes.map((n) => `<p><code>${escapeHtml(n)}</code></p>`),
    ...byDimension(run.points).map(([dimension, ps]) => dimensionSection(dimension, ps, run.heading ? 'h3' : 'h2')),
  ]);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:12px}',
    'td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th:first-child,td:first-child{text-align:left}',
    '.charts{display:flex;flex-wrap:wrap;gap:8px}svg text{font-size:11px;font-family:sans-serif}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(generatedAt)}</p>`,
    ...body,
    '</body></html>',
  ].join('\n');
}

function dimensionSection(dimension: Dimension, points: ScalePoint[], heading: 'h2' | 'h3'): string {
  const ok = points.filter((p) => !p.error);
  const labels = ok.map((p) => valueLabel(dimension, p.value));
  const xTicks: TickFn = () => labels.map((label, i) => ({ value: i, label }));
  const xLabel = DIMENSIONS[dimension].title;
  const series = (name: string, pick: (p: ScalePoint) => number | undefined, color = 0): Series => ({
    name,
    color: COLORS[color],
    points: ok.flatMap((p, i): Array<[number, number]> => {
      const y = pick(p);
      return y === undefined ? [] : [[i, y]];
    }),
  });
  const chart = (title: string, yLabel: string, s: Series[]): string =>
    `<div><h4>${escapeHtml(title)}</h4>${lineChart(s, { xLabel, yLabel, xTicks, markers: true })}</div>`;
  const throughput =
    dimension === 'size'
      ? chart('Throughput (bodies delivered, MB/s)', 'MB/s', [series('delivered MB/s', (p) => p.deliveredMBps)])
      : chart('Throughput', 'per second', [
          series('delivered msg/s', (p) => p.deliveredPerSec),
          ...(dimension === 'groups' ? [series('deliveries/s (all groups)', (p) => p.deliveriesPerSec, 1)] : []),
        ]);
  const p99 = chart('p99 latency', 'ms', [
    series('publish→deliver p99', (p) => p.deliverP99Ms),
    ...(dimension === 'idle' ? [series('heartbeat p99 (before the run)', (p) => p.heartbeatP99Ms, 1)] : []),
  ]);
  const cpu = chart('CPU per message', 'µs', [
    series('broker µs/msg', (p) => p.brokerUsPerMsg),
    series('bench µs/msg', (p) => p.benchUsPerMsg, 1),
    ...(dimension === 'groups' ? [series('broker µs/delivery', (p) => p.brokerUsPerDelivery, 2)] : []),
  ]);
  const rss = chart('Broker RSS', 'MB', [
    series('peak (VmHWM)', (p) => p.brokerPeakRssMb),
    series(dimension === 'backlog' ? 'at ready' : 'before the run', (p) => p.brokerRssMb, 1),
  ]);
  const start =
    dimension === 'backlog'
      ? chart('Broker start (spawn → ready)', 's', [series('start', (p) => p.startMs / 1000)])
      : '';
  const rows = rowsOf(dimension, points);
  const table = `<table><tr>${rows[0].map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows
    .slice(1)
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  return `<${heading}>${escapeHtml(DIMENSIONS[dimension].title)}</${heading}>${table}<div class="charts">${throughput}${p99}${cpu}${rss}${start}</div>`;
}
