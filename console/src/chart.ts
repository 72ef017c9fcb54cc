// A time-series chart over uPlot (doc/console.md "Choices"): created once, fed new data on every
// poll, resized with its box.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html';

export interface Line {
  label: string;
  color: string;
}

interface Props {
  title: string;
  lines: Line[];
  /** [unix seconds, ...one array per line] */
  data: number[][];
  height?: number;
}

export function Chart({ title, lines, data, height = 180 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: true } },
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, points: { show: false } }))],
      axes: [{}, { size: 50 }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    plot.current = new uPlot(options, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return html`<figure class="chart" aria-label=${title}>
    <figcaption>${title}</figcaption>
    <div ref=${box} class="chart-box"></div>
  </figure>`;
}
