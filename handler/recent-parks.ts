// Messages the publish path parked a moment ago: no group bound, or no consumer of a bound group
// online, when they arrived. A group's first consumer or a binding change re-drives those a group
// can now receive at once. The recovery scan it also starts walks the whole backlog in due order,
// and meets a message parked just now last: seconds later with a large backlog (doc/delivery.md).
import type { DeliveryRequest } from './events';

interface Entry {
  request: DeliveryRequest;
  atMs: number;
}

export class RecentParks {
  /** by message id, oldest first (a re-park moves it to the end with its latest state) */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxCount: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(request: DeliveryRequest, nowMs: number): void {
    const id = request.message.header.messageId;
    this.entries.delete(id);
    this.entries.set(id, { request, atMs: nowMs });
    this.expire(nowMs);
  }

  /**
   * Removes and returns those an attempt now would deliver somewhere, newest first (the oldest are
   * closest to what the recovery scan re-drives anyway); keeps the others.
   */
  takeReceivable(canReceive: (request: DeliveryRequest) => boolean, nowMs: number): DeliveryRequest[] {
    this.expire(nowMs);
    const taken: DeliveryRequest[] = [];
    for (const [id, entry] of this.entries) {
      if (!canReceive(entry.request)) continue;
      this.entries.delete(id);
      taken.push(entry.request);
    }
    return taken.reverse();
  }

  /** Older ones (and any past maxCount) are left to the recovery scan, as every parked message was. */
  private expire(nowMs: number): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxCount && nowMs - entry.atMs <= this.maxAgeMs) return;
      this.entries.delete(id);
    }
  }
}
