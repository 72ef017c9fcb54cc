// Time as a dependency (nats.js passes its narrow interfaces the same way): every delivery-engine
// timer (retry heap, watermark drain, recovery interval, timeout sweep) and every "now" come from
// one Clock, so a test can run the doc/architecture.md §6 schedule (5 s … 160 s) in virtual time.
export type TimerHandle = unknown;

export interface Clock {
  /** unix ms */
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
});

/** Real timers with another notion of "now" (the older BrokerOptions.nowMs). */
export function clockWithNow(nowMs: () => number): Clock {
  return { nowMs, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
}

interface VirtualTimer {
  dueMs: number;
  seq: number;
  fn: () => void;
}

/**
 * Time that moves only when told (tests, simulations). Timers fire in due order during advance();
 * a timer set while advancing fires in the same advance if it falls due within it.
 */
export class VirtualClock implements Clock {
  private now: number;
  private seq = 0;
  private readonly timers = new Set<VirtualTimer>();

  constructor(startMs = Date.now()) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { dueMs: this.now + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as VirtualTimer);
  }

  /** Timers waiting (not yet fired or cleared). */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const timer of this.timers) {
        if (
          timer.dueMs <= target &&
          (next === undefined || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.seq < next.seq))
        )
          next = timer;
      }
      if (next === undefined) break;
      this.timers.delete(next);
      this.now = Math.max(this.now, next.dueMs);
      next.fn();
    }
    this.now = target;
  }
}
