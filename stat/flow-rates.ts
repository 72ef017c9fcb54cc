// Per-second flows (doc/architecture.md §10): the change of every FlowCounters total over the last second,
// taken by one 1 s tick (KiteQ's Flow.Changes()), so the hot path only bumps plain numbers.
import type { Flow, FlowCounters } from './counters';

export type FlowRecord = Record<Flow, number>;

export interface FlowRates {
  total: FlowRecord;
  byTopic: Record<string, FlowRecord>;
  byGroup: Record<string, FlowRecord>;
}

const FLOWS: readonly Flow[] = Object.freeze([
  'received',
  'stored',
  'rejected',
  'delivered',
  'acked',
  'failed',
  'retried',
  'deadLettered',
]);

function zero(): FlowRecord {
  return { received: 0, stored: 0, rejected: 0, delivered: 0, acked: 0, failed: 0, retried: 0, deadLettered: 0 };
}

function minus(now: FlowRecord, before: FlowRecord | undefined): FlowRecord {
  const out = zero();
  for (const flow of FLOWS) out[flow] = now[flow] - (before?.[flow] ?? 0);
  return out;
}

function copy(record: FlowRecord): FlowRecord {
  return { ...record };
}

/** Remembers the totals at the previous tick; `tick()` (once a second) turns them into rates. */
export class FlowRateMeter {
  private lastTotal = zero();
  private lastByTopic = new Map<string, FlowRecord>();
  private lastByGroup = new Map<string, FlowRecord>();
  private current: FlowRates = { total: zero(), byTopic: {}, byGroup: {} };

  constructor(private readonly counters: FlowCounters) {}

  /** The flows of the last complete second. */
  get lastSecond(): FlowRates {
    return this.current;
  }

  tick(): FlowRates {
    const { counters } = this;
    const byTopic: Record<string, FlowRecord> = {};
    const byGroup: Record<string, FlowRecord> = {};
    for (const [topic, now] of counters.byTopic) {
      byTopic[topic] = minus(now, this.lastByTopic.get(topic));
      this.lastByTopic.set(topic, copy(now));
    }
    for (const [group, now] of counters.byGroup) {
      byGroup[group] = minus(now, this.lastByGroup.get(group));
      this.lastByGroup.set(group, copy(now));
    }
    const total = minus(counters.total, this.lastTotal);
    this.lastTotal = copy(counters.total);
    this.current = { total, byTopic, byGroup };
    return this.current;
  }
}

export { FLOWS };
