// Delayed redeliveries (doc/architecture.md §6): message ids on a min-heap under one timer. Only ids are
// held in memory; the message is read back from the store when it is due, so a large backlog of
// retries costs a few dozen bytes each. Past `maxScheduled` ids the recovery scan of the store
// picks them up instead (their nextDeliverTime is in the store).
//
// Due times are whole seconds (the store's nextDeliverTime), so a second's worth of failures comes
// due in the same millisecond: 10^5 at most. They are released in slices of `sliceSize` with a
// timer turn between (I/O runs in between: one loop of 10^5 reads and deliveries stalled the broker
// for a second), and only while `hasRoom()` (deliveries in flight under the bound the recovery scan
// also keeps), so a burst of retries cannot crowd out new traffic.
import type { Clock, TimerHandle } from './clock';
import { DueHeap } from './min-heap';

export interface RetrySchedulerOptions {
  clock: Clock;
  onDue: (messageId: string) => void;
  maxScheduled: number;
  /** false while deliveries in flight are at their bound: due ids wait (default: always room) */
  hasRoom?: () => boolean;
  /** due ids released per timer turn (default 500) */
  sliceSize?: number;
}

/** how soon to look again when due ids wait for room */
const ROOM_WAIT_MS = 20;

export class RetryScheduler {
  private readonly heap = new DueHeap();
  private readonly scheduled = new Set<string>();
  private timer: TimerHandle | null = null;
  private timerDueMs = Infinity;
  private stopped = false;

  constructor(private readonly options: RetrySchedulerOptions) {}

  get size(): number {
    return this.scheduled.size;
  }

  has(messageId: string): boolean {
    return this.scheduled.has(messageId);
  }

  /** false when full: the store's nextDeliverTime and the recovery scan take over. */
  schedule(messageId: string, dueMs: number): boolean {
    if (this.stopped || this.scheduled.has(messageId)) return true;
    if (this.scheduled.size >= this.options.maxScheduled) return false;
    this.scheduled.add(messageId);
    this.heap.push(dueMs, messageId);
    this.arm();
    return true;
  }

  private arm(): void {
    const next = this.heap.peekDue();
    if (next === undefined || next >= this.timerDueMs) return;
    const { clock } = this.options;
    if (this.timer !== null) clock.clearTimeout(this.timer);
    this.timerDueMs = next;
    this.timer = clock.setTimeout(this.fire, Math.max(0, next - clock.nowMs()));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerDueMs = Infinity;
    const { clock, hasRoom, sliceSize = 500 } = this.options;
    const now = clock.nowMs();
    for (let released = 0; this.heap.size > 0 && this.heap.peekDue()! <= now; released++) {
      if (released === sliceSize || (hasRoom !== undefined && !hasRoom())) {
        if (!this.stopped) this.armIn(released === sliceSize ? 0 : ROOM_WAIT_MS);
        return;
      }
      const { id } = this.heap.pop()!;
      this.scheduled.delete(id);
      this.options.onDue(id);
    }
    if (!this.stopped) this.arm();
  };

  /** due ids are left: look again after `ms` (a new earlier schedule() cannot preempt: they are due) */
  private armIn(ms: number): void {
    const { clock } = this.options;
    this.timerDueMs = clock.nowMs() + ms;
    this.timer = clock.setTimeout(this.fire, ms);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
