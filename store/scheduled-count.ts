// The count of scheduled messages (doc/delayed-delivery.md "Counting"): stored, not dead-lettered
// messages whose kiteq.deliverAt is still ahead. Kept per whole second of the time, so time passing
// costs no store write: a read drains the seconds that have come, soonest first, off a min-heap.
import { deliverAtOf } from '../protocol/deliver-at';
import type { MessageHeader } from '../protocol/messages/header';
import { DueHeap } from '../server/min-heap';

/** ⌈kiteq.deliverAt / 1000⌉, the second the store makes it due; 0 when it has none */
export function scheduledSecondOf(header: Pick<MessageHeader, 'properties'>): number {
  return Math.ceil(deliverAtOf(header) / 1000);
}

export class ScheduledCount {
  /** messages per second of their time; a second stays (maybe at 0) until drained, so it is pushed once */
  private readonly bySecond = new Map<number, number>();
  private readonly seconds = new DueHeap();
  /** every second up to this one has come and been drained */
  private drainedTo = 0;
  private ahead = 0;

  /** a stored message with this second (0: none) became visible */
  add(second: number): void {
    if (second <= this.drainedTo) return;
    const n = this.bySecond.get(second);
    if (n === undefined) this.seconds.push(second, '');
    this.bySecond.set(second, (n ?? 0) + 1);
    this.ahead++;
  }

  /** it was deleted, dead-lettered or hidden: its second, if not drained yet, loses it */
  remove(second: number): void {
    if (second <= this.drainedTo) return;
    const n = this.bySecond.get(second);
    if (n === undefined || n === 0) return;
    this.bySecond.set(second, n - 1);
    this.ahead--;
  }

  /** Those whose second is still ahead of `nowMs`: amortised O(log seconds) per second drained, O(1) else. */
  count(nowMs: number): number {
    const nowSec = Math.floor(nowMs / 1000);
    for (let next = this.seconds.peekDue(); next !== undefined && next <= nowSec; next = this.seconds.peekDue()) {
      this.seconds.pop();
      this.ahead -= this.bySecond.get(next) ?? 0;
      this.bySecond.delete(next);
    }
    if (nowSec > this.drainedTo) this.drainedTo = nowSec;
    return this.ahead;
  }
}
