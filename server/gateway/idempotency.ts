// Idempotent publish over HTTP (doc/http-gateway.md "Idempotency"): a caller that sends the same
// Kiteq-Message-Id again (its first answer was lost) is told the first message's id, and no second
// copy is stored or delivered.
// - While the first is being stored, the retry waits for its answer (the store could still refuse it).
// - While the message is stored (pending, scheduled, prepared, dead-lettered, and after a broker
//   restart), the store refuses the second save as a duplicate (handler/persist.ts).
// - After it was delivered and deleted, the ids answered 201 in the last `windowMs` are remembered
//   here, up to `maxIds` of them, and with a file:// store also in its directory (id-journal.ts),
//   so a restart keeps them.
import type { IdJournal, JournalEntry } from './id-journal';

export interface IdempotencyOptions {
  windowMs: number;
  maxIds: number;
  nowMs: () => number;
}

interface Remembered {
  groupId: string;
  atMs: number;
}

export class RecentPublishes {
  /** Map order = answer order: the oldest are dropped first */
  private readonly answered = new Map<string, Remembered>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private journal: IdJournal | null = null;

  constructor(private readonly options: IdempotencyOptions) {}

  /** Entries read back from the journal at start, oldest first. */
  restore = (entry: JournalEntry): void => {
    this.answered.set(entry.id, { groupId: entry.groupId, atMs: entry.atMs });
  };

  /** From now on each stored() id is written to `journal` before it is answered. */
  keepIn(journal: IdJournal): void {
    this.journal = journal;
  }

  /** The ids within the window, oldest first (the journal's rewrite). */
  *entries(): Iterable<JournalEntry> {
    const cutoff = this.options.nowMs() - this.options.windowMs;
    for (const [id, { groupId, atMs }] of this.answered) if (atMs > cutoff) yield { id, groupId, atMs };
  }

  /** The group that published this id within the window, else undefined. */
  publishedBy(messageId: string): string | undefined {
    const entry = this.answered.get(messageId);
    if (!entry) return undefined;
    if (this.options.nowMs() - entry.atMs > this.options.windowMs) {
      this.answered.delete(messageId);
      return undefined;
    }
    return entry.groupId;
  }

  /** The publish of this id under way, if any. */
  inProgress(messageId: string): Promise<unknown> | undefined {
    return this.pending.get(messageId);
  }

  /** Runs the first publish of an id; a retry meanwhile awaits inProgress(). */
  async track<T>(messageId: string, publish: Promise<T>): Promise<T> {
    this.pending.set(messageId, publish);
    try {
      return await publish;
    } finally {
      this.pending.delete(messageId);
    }
  }

  /** The message was stored (201): remembered for the window. */
  stored(messageId: string, groupId: string): void {
    const { answered, options } = this;
    const atMs = options.nowMs();
    answered.delete(messageId);
    answered.set(messageId, { groupId, atMs });
    this.journal?.append({ id: messageId, groupId, atMs }, () => this.entries(), 2 * options.maxIds);
    if (answered.size > options.maxIds) answered.delete(answered.keys().next().value as string);
    this.expireSome();
  }

  /** Drops a few expired entries from the old end (amortised: no timer). */
  private expireSome(): void {
    const cutoff = this.options.nowMs() - this.options.windowMs;
    let n = 0;
    for (const [id, entry] of this.answered) {
      if (entry.atMs > cutoff || n++ >= 4) break;
      this.answered.delete(id);
    }
  }

  get size(): number {
    return this.answered.size;
  }
}
