// Open-loop pacing for a fixed offered rate: lanes wait here for their message's intended send
// time. Intended times are handed out in increasing order, so waiters queue in FIFO order and one
// timer (armed for the head) serves every lane: a timer per message would cost the load generator
// more CPU than the broker spends on the message at 5,000/s on this 2-core machine.
//
// Timers have 1 ms granularity: waiting for the exact time sends a message up to a tick late, and
// that lateness would count in every latency. So a message is
// let go up to EARLY_MS before its time; the publish loop then counts its latency from when it
// was actually sent (the earlier of intended and actual send time: never less than the truth, and
// late sends still count from their intended time, so no coordinated omission).
import { nowMs } from './payload';

interface Waiter {
  atMs: number;
  resolve: () => void;
}

/** how early a message may be let go: one timer tick */
export const EARLY_MS = 1;

export class SendPacer {
  private readonly queue: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  /** Resolves at atMs, or up to EARLY_MS before it; null when that time has already come. */
  until(atMs: number): Promise<void> | null {
    if (atMs - EARLY_MS <= nowMs()) return null;
    return new Promise<void>((resolve) => {
      this.queue.push({ atMs, resolve });
      if (this.timer === null) this.arm();
    });
  }

  private arm(): void {
    const wait = this.queue[this.head].atMs - EARLY_MS - nowMs();
    // a fractional target may fire up to 1 ms early: round up (the lane re-checks and waits again)
    this.timer = setTimeout(this.release, Math.max(0, Math.ceil(wait)));
  }

  private readonly release = (): void => {
    this.timer = null;
    const now = nowMs();
    while (this.head < this.queue.length && this.queue[this.head].atMs - EARLY_MS <= now)
      this.queue[this.head++].resolve();
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  };
}
