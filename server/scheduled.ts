// Scheduled messages (doc/delayed-delivery.md): cancel one by id, list those not yet due. They are
// ordinary stored messages whose kiteq.deliverAt is ahead; both read the store, nothing is held
// in memory for them.
import type { InFlightSet } from '../handler/delivery-in-flight';
import { deliverAtOf } from '../protocol/deliver-at';
import type { DueCursor, MessageStore, StoredMessage } from '../store/contract';
import { cursorOf } from '../store/due-order';

export type CancelOutcome = 'cancelled' | 'unknown' | 'notScheduled';

export interface ScheduledQuery {
  topic?: string;
  /** only those due before this (epoch ms) */
  beforeMs: number;
  after?: DueCursor;
  limit: number;
}

export interface ScheduledPage {
  items: { message: StoredMessage; deliverAtMs: number }[];
  /** where to continue, when more may follow */
  next: DueCursor | null;
}

export interface ScheduledDeps {
  store: MessageStore;
  inFlight: Pick<InFlightSet, 'has'>;
  nowMs: () => number;
  pageSize: number;
}

/** rows one list call reads at most (scheduled ones share the due order with retries and parked ones) */
const MAX_READ = 20_000;

export class ScheduledMessages {
  constructor(private readonly deps: ScheduledDeps) {}

  /**
   * Deletes a message whose time has not come. One already due (its delivery may have begun) or
   * without a time is left alone: a cancel never races a delivery it cannot stop.
   */
  async cancel(messageId: string): Promise<CancelOutcome> {
    const { store, inFlight, nowMs } = this.deps;
    const id = messageId.toLowerCase();
    const message = await store.get(id);
    if (!message) return 'unknown';
    if (deliverAtOf(message.header) <= nowMs() || inFlight.has(id)) return 'notScheduled';
    await store.delete(id);
    return 'cancelled';
  }

  /** Committed messages not yet due, in due order (a prepared one is scheduled once committed). */
  async list(query: ScheduledQuery): Promise<ScheduledPage> {
    const { store, nowMs, pageSize } = this.deps;
    const now = nowMs();
    const items: ScheduledPage['items'] = [];
    let after = query.after;
    for (let read = 0; read < MAX_READ;) {
      const page = await store.pageDue({
        dueBy: Math.ceil(query.beforeMs / 1000),
        after,
        limit: pageSize,
        committed: true,
      });
      read += page.length;
      for (const message of page) {
        const deliverAtMs = deliverAtOf(message.header);
        if (deliverAtMs <= now || deliverAtMs >= query.beforeMs) continue;
        if (query.topic !== undefined && message.header.topic !== query.topic) continue;
        items.push({ message, deliverAtMs });
        if (items.length === query.limit) return { items, next: cursorOf(message) };
      }
      if (page.length < pageSize) return { items, next: null };
      after = cursorOf(page[page.length - 1]);
    }
    return { items, next: after ?? null };
  }
}
