// In-flight dedup (doc/architecture.md §5 deliver-prepare, §6): the messageIds with an attempt under way. A
// message is in flight from deliver-prepare until the store has recorded the attempt's outcome
// (recordDelivery, delete or dead-letter), so nothing reading the store in between (the recovery
// scan) can start a second attempt from a stale copy.
//
// Readers that page the store (recovery) open a watch: every id released while the watch is open
// is noted, and the reader skips those, since its page may predate their latest store write.
export class InFlightSet {
  private readonly ids = new Set<string>();
  private readonly watches = new Set<Set<string>>();
  /**
   * Ids whose save (or tx commit) has been sent to the store but has not resolved: a store can make
   * a row visible to other readers before it answers the writer (InnoDB commits in memory, then
   * flushes its log), so a recovery page may see a message whose first attempt is still to come. The
   * pipeline starts that attempt itself once the store answers; readers leave these alone.
   */
  // id → writes under way (a producer's retry can overlap its first save)
  private readonly storing = new Map<string, number>();

  get size(): number {
    return this.ids.size;
  }

  has(messageId: string): boolean {
    return this.ids.has(messageId);
  }

  /** false when already in flight (the caller must not start a second attempt) */
  add(messageId: string): boolean {
    if (this.ids.has(messageId)) return false;
    this.ids.add(messageId);
    return true;
  }

  release(messageId: string): void {
    if (!this.ids.delete(messageId)) return;
    if (this.watches.size === 0) return; // hot path: no reader paging the store
    for (const watch of this.watches) watch.add(messageId);
  }

  /** The store write that makes a message deliverable is under way (persist, tx commit). */
  storeStarted(messageId: string): void {
    this.storing.set(messageId, (this.storing.get(messageId) ?? 0) + 1);
  }

  /** It resolved or failed: call before handing the message to deliver-prepare. */
  storeSettled(messageId: string): void {
    const writes = this.storing.get(messageId);
    if (writes === undefined) return;
    if (writes <= 1) this.storing.delete(messageId);
    else this.storing.set(messageId, writes - 1);
  }

  /** a write under way will start this message's attempt itself: a reader of the store must not */
  isStoring(messageId: string): boolean {
    return this.storing.size > 0 && this.storing.has(messageId);
  }

  /** Starts noting released ids; call closeWatch with the returned set when done. */
  openWatch(): Set<string> {
    const watch = new Set<string>();
    this.watches.add(watch);
    return watch;
  }

  closeWatch(watch: Set<string>): void {
    this.watches.delete(watch);
  }
}
