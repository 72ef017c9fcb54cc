// memory:// — for tests and fly-like use (doc/architecture.md §8). Not durable. Never evicts: when full,
// save() rejects with StoreFullError and the producer gets store-ack false (doc/architecture.md §12).
import type {
  DeadLetter,
  DeadLetterQuery,
  DeliveryResult,
  DueQuery,
  GroupBacklog,
  GroupBacklogQuery,
  MessageStore,
  StoredMessage,
} from '../contract';
import { compareDue } from '../due-order';
import { DuplicateMessageError, StoreFullError } from '../errors';
import { GroupBacklogTally } from '../group-backlog-tally';
import { ScheduledCount, scheduledSecondOf } from '../scheduled-count';

export interface MemoryStoreOptions {
  /** most messages held at once (live + dead letters) */
  maxMessages: number;
}

function clone(message: StoredMessage): StoredMessage {
  return { ...message, succGroups: [...message.succGroups], failGroups: [...message.failGroups] };
}

export class MemoryStore implements MessageStore {
  readonly kind = 'memory';
  readonly durable = false;
  private readonly live = new Map<string, StoredMessage>();
  private readonly dead = new Map<string, DeadLetter>();
  /** live messages whose kiteq.deliverAt is ahead (doc/delayed-delivery.md "Counting") */
  private readonly scheduled = new ScheduledCount();

  constructor(private readonly options: MemoryStoreOptions = { maxMessages: 1_000_000 }) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async save(message: StoredMessage): Promise<void> {
    const id = message.header.messageId;
    if (this.live.has(id) || this.dead.has(id)) throw new DuplicateMessageError(id);
    if (this.live.size + this.dead.size >= this.options.maxMessages) {
      throw new StoreFullError(`memory store holds its limit of ${this.options.maxMessages} messages`);
    }
    // Kept by reference: the pipeline never mutates a message after handing it to save(), and
    // every update below replaces fields rather than editing shared arrays.
    this.live.set(id, message);
    this.scheduled.add(scheduledSecondOf(message.header));
  }

  async saveBatch(messages: StoredMessage[]): Promise<void> {
    const results = await Promise.allSettled(messages.map((m) => this.save(m)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async get(messageId: string): Promise<StoredMessage | undefined> {
    const found = this.live.get(messageId) ?? this.dead.get(messageId)?.message;
    return found && clone(found);
  }

  async commit(messageId: string): Promise<StoredMessage | undefined> {
    const message = this.live.get(messageId);
    if (!message) return undefined;
    message.header = { ...message.header, commit: true };
    message.encodedHeader = undefined; // encoded with commit=false
    return clone(message);
  }

  async rollback(messageId: string): Promise<boolean> {
    return this.removeLive(messageId) !== undefined;
  }

  /** takes a message out of the live map and the scheduled count */
  private removeLive(messageId: string): StoredMessage | undefined {
    const message = this.live.get(messageId);
    if (!message) return undefined;
    this.live.delete(messageId);
    this.scheduled.remove(scheduledSecondOf(message.header));
    return message;
  }

  scheduledCount(nowMs: number): number {
    return this.scheduled.count(nowMs);
  }

  async recordCheck(messageId: string, checkCount: number, nextDeliverTime: number): Promise<void> {
    const message = this.live.get(messageId);
    if (!message) return;
    message.checkCount = checkCount;
    message.nextDeliverTime = nextDeliverTime;
  }

  async recordDelivery(messageId: string, result: DeliveryResult): Promise<void> {
    const message = this.live.get(messageId);
    if (!message) return;
    message.succGroups = [...result.succGroups];
    message.failGroups = [...result.failGroups];
    message.deliverCount = result.deliverCount;
    message.nextDeliverTime = result.nextDeliverTime;
  }

  async delete(messageId: string): Promise<void> {
    this.removeLive(messageId);
  }

  async deadLetter(messageId: string, reason: string): Promise<void> {
    const message = this.removeLive(messageId);
    if (!message) return;
    this.dead.set(messageId, { message, reason, deadTime: Math.floor(Date.now() / 1000) });
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const id of [...this.dead.keys()].sort()) {
      if (query.afterId !== undefined && id <= query.afterId) continue;
      const letter = this.dead.get(id)!;
      if (query.topic !== undefined && letter.message.header.topic !== query.topic) continue;
      if (query.groupId !== undefined && letter.message.succGroups.includes(query.groupId)) continue;
      out.push({ ...letter, message: clone(letter.message) });
      if (out.length >= query.limit) break;
    }
    return out;
  }

  async redrive(messageId: string, nextDeliverTime: number): Promise<StoredMessage | undefined> {
    const letter = this.dead.get(messageId);
    if (!letter) return undefined;
    this.dead.delete(messageId);
    const message = { ...letter.message, deliverCount: 0, checkCount: 0, nextDeliverTime };
    this.live.set(messageId, message);
    this.scheduled.add(scheduledSecondOf(message.header));
    return clone(message);
  }

  async pageDue(query: DueQuery): Promise<StoredMessage[]> {
    const due: StoredMessage[] = [];
    for (const message of this.live.values()) {
      if (message.header.commit !== query.committed || message.nextDeliverTime > query.dueBy) continue;
      if (query.after && compareDue(message, query.after) <= 0) continue;
      if (query.topics && !query.topics.includes(message.header.topic)) continue;
      due.push(message);
    }
    due.sort(compareDue);
    return due.slice(0, query.limit).map(clone);
  }

  async countsByTopic(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const message of this.live.values()) counts[message.header.topic] = (counts[message.header.topic] ?? 0) + 1;
    return counts;
  }

  /** every live message, exactly (doc/console.md "Per-group backlog") */
  async groupBacklog(query: GroupBacklogQuery): Promise<Record<string, GroupBacklog>> {
    const tally = new GroupBacklogTally(query);
    for (const { header, succGroups, publishTime } of this.live.values()) {
      if (!header.commit || tally.isExpired(header.expiredTime)) continue;
      tally.add(header.topic, header.messageType, succGroups, publishTime);
    }
    return tally.result();
  }
}
