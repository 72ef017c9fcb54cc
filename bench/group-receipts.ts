// The receipts of a run with N consumer groups bound to the type (`kiteq-bench roundtrip --groups N`):
// every group must receive every acked message, so each has its own ReceiptTracker (lost,
// duplicates and stale are counted per group) under one run id, and every first receipt of every
// group goes into one deliver-latency histogram.
import { LatencyRecorder } from './latency';
import { newRunId } from './peers/payload';
import { ReceiptTracker, type Receipts } from './peers/receipts';

/** One group's counts in a run's result. */
export interface GroupCounts {
  groupId: string;
  received: number;
  duplicates: number;
  lost: number;
  stale: number;
}

/**
 * The consumer groups (or topics) of a run: the given name alone, or it and `<name>-1` … `<name>-(n-1)`.
 * A broker's registry binds them and its groups file admits them (bench/bench-conf.ts writes both).
 */
export function numberedNames(name: string, n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a count ≥ 1, got ${n}`);
  return Array.from({ length: n }, (_, i) => (i === 0 ? name : `${name}-${i}`));
}

export class GroupReceipts implements Receipts {
  readonly trackers: ReceiptTracker[];
  deliver = new LatencyRecorder();
  run = newRunId();

  constructor(readonly groupIds: string[]) {
    this.trackers = groupIds.map(() => new ReceiptTracker(this.run, this.deliver));
  }

  markAcked(id: number): void {
    for (const tracker of this.trackers) tracker.markAcked(id);
  }

  /** The fewest distinct messages of this run any group received: every acked message reached every group iff this is acked − lost = acked. */
  get received(): number {
    return Math.min(...this.trackers.map((t) => t.received));
  }

  /** First receipts over all groups: one per message and group. */
  get deliveries(): number {
    return this.sum('received');
  }

  /** (message, group) pairs acked and never received: the sum of every group's losses. */
  get lost(): number {
    return this.sum('lost');
  }

  get duplicates(): number {
    return this.sum('duplicates');
  }

  get stale(): number {
    return this.sum('stale');
  }

  /** When the group that got its last message latest had it: the end of the deliveries. */
  get lastReceivedMs(): number {
    return Math.max(...this.trackers.map((t) => t.lastReceivedMs));
  }

  perGroup(): GroupCounts[] {
    return this.trackers.map((t, i) => ({
      groupId: this.groupIds[i],
      received: t.received,
      duplicates: t.duplicates,
      lost: t.lost,
      stale: t.stale,
    }));
  }

  async whenDrained(idleMs: number): Promise<void> {
    await Promise.all(this.trackers.map((t) => t.whenDrained(idleMs)));
  }

  nextRun(): void {
    this.run = newRunId();
    this.deliver = new LatencyRecorder();
    for (const tracker of this.trackers) tracker.nextRun(this.run, this.deliver);
  }

  private sum(field: 'received' | 'lost' | 'duplicates' | 'stale'): number {
    let total = 0;
    for (const tracker of this.trackers) total += tracker[field];
    return total;
  }
}
