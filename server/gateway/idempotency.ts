// Idempotent publish over HTTP (doc/http-gateway.md "Idempotency"): a caller that sends the same
// Kiteq-Message-Id again (its first answer was lost) is told the first message's id, and no second
// copy is stored or delivered.
// - While the first is being stored, the retry waits for its answer (the store could still refuse it).
// - While the message is stored (pending, scheduled, prepared, dead-lettered, and after a broker
//   restart), the store refuses the second save as a duplicate (handler/persist.ts).
// - After it was delivered and deleted, the ids answered 201 in the last `windowMs` are remembered
//   here, up to `maxIds` of them, and with a file:// store also in its directory (id-journal.ts),
//   so a restart keeps them.
// - A commit or rollback answered 200 and sent again after the message is gone (delivered, or
//   deleted by the rollback) is answered the same for the window, in memory.
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

/** A commit or rollback answered 200: a retry of it after the message is gone is answered the same. */
export interface Decision extends Remembered {
  state: 'committed' | 'rolledBack';
}

/** Ids remembered for `windowMs`, at most `maxIds` of them; Map order = insertion order, the oldest go first. */
class RecentIds<V extends Remembered> {
  private readonly byId = new Map<string, V>();

  constructor(private readonly options: IdempotencyOptions) {}

  get(id: string): V | undefined {
    const entry = this.byId.get(id);
    if (entry && this.options.nowMs() - entry.atMs > this.options.windowMs) {
      this.byId.delete(id);
      return undefined;
    }
    return entry;
  }

  set(id: string, value: V): void {
    const { byId, options } = this;
    byId.delete(id);
    byId.set(id, value);
    if (byId.size > options.maxIds) byId.delete(byId.keys().next().value as string);
    // drops a few expired entries from the old end (amortised: no timer)
    const cutoff = options.nowMs() - options.windowMs;
    let n = 0;
    for (const [key, entry] of byId) {
      if (entry.atMs > cutoff || n++ >= 4) break;
      byId.delete(key);
    }
  }

  /** The entries within the window, oldest first. */
  *live(): Iterable<[string, V]> {
    const cutoff = this.options.nowMs() - this.options.windowMs;
    for (const entry of this.byId) if (entry[1].atMs > cutoff) yield entry;
  }

  get size(): number {
    return this.byId.size;
  }
}

export class RecentPublishes {
  private readonly answered: RecentIds<Remembered>;
  private readonly decisions: RecentIds<Decision>;
  private readonly pending = new Map<string, Promise<unknown>>();
  private journal: IdJournal | null = null;

  constructor(private readonly options: IdempotencyOptions) {
    this.answered = new RecentIds(options);
    this.decisions = new RecentIds(options);
  }

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
    for (const [id, { groupId, atMs }] of this.answered.live()) yield { id, groupId, atMs };
  }

  /** The group that published this id within the window, else undefined. */
  publishedBy(messageId: string): string | undefined {
    return this.answered.get(messageId)?.groupId;
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
    const atMs = this.options.nowMs();
    this.answered.set(messageId, { groupId, atMs });
    this.journal?.append({ id: messageId, groupId, atMs }, () => this.entries(), 2 * this.options.maxIds);
  }

  /** A commit or rollback was applied (200): remembered for the window, in memory. */
  decided(messageId: string, groupId: string, state: Decision['state']): void {
    this.decisions.set(messageId, { groupId, state, atMs: this.options.nowMs() });
  }

  /** The decision applied to this id within the window, else undefined. */
  decisionOf(messageId: string): Decision | undefined {
    return this.decisions.get(messageId);
  }

  get size(): number {
    return this.answered.size;
  }
}
