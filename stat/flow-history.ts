// The last 15 minutes of flows, one sample a second (doc/console.md "Overview"): a fixed ring filled by
// BrokerStats' 1 s tick, so a console opened now draws history at once. 900 samples × 8 numbers.
import type { FlowRecord } from './flow-rates';

export const HISTORY_FIELDS = ['received', 'delivered', 'acked', 'retried', 'failed', 'deadLettered'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

export interface FlowHistorySnapshot {
  intervalMs: number;
  /** unix ms of each sample, oldest first */
  t: number[];
  /** per field, one rate (per second) a sample; backlog = unfinished messages of the served topics */
  series: Record<HistoryField | 'backlog', number[]>;
}

export class FlowHistory {
  private readonly times: Float64Array;
  private readonly columns: Record<HistoryField | 'backlog', Float64Array>;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity = 900,
    readonly intervalMs = 1000,
  ) {
    this.times = new Float64Array(capacity);
    const column = () => new Float64Array(capacity);
    this.columns = {
      received: column(),
      delivered: column(),
      acked: column(),
      retried: column(),
      failed: column(),
      deadLettered: column(),
      backlog: column(),
    };
  }

  push(atMs: number, flows: FlowRecord, backlog: number): void {
    const i = this.next;
    this.times[i] = atMs;
    for (const field of HISTORY_FIELDS) this.columns[field][i] = flows[field];
    this.columns.backlog[i] = backlog;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Samples newer than sinceMs (all when absent), oldest first. */
  snapshot(sinceMs = 0): FlowHistorySnapshot {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    const order: number[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (start + k) % this.capacity;
      if (this.times[i] > sinceMs) order.push(i);
    }
    const pick = (column: Float64Array) => order.map((i) => column[i]);
    const series = {} as FlowHistorySnapshot['series'];
    for (const [field, column] of Object.entries(this.columns)) series[field as HistoryField] = pick(column);
    return { intervalMs: this.intervalMs, t: pick(this.times), series };
  }
}
