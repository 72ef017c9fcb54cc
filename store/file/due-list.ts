// Messages in (nextDeliverTime, messageId) order (doc/architecture.md §6 recovery paging), kept sorted as they
// change so pageDue() costs O(log n + page) instead of sorting 1,000,000 messages per page.
// A list of sorted chunks (like Python's sortedcontainers): insert/remove = binary search + a splice
// within one chunk of at most 2 × CHUNK slots.
import type { DueCursor } from '../contract';

const CHUNK = 512;

export interface DueKeys {
  nextDeliverTime: Float64Array;
  /** the order of slots' message ids, and of a slot's id against a cursor's (id-table.ts) */
  ids: {
    compare(a: number, b: number): number;
    compareTo(slot: number, id: string): number;
    /** a number in the order of a slot's id (id-table.ts idPrefix) */
    prefix(slot: number): number;
  };
}

/** a slot's key against the sought one: < 0 before, 0 equal, > 0 after */
type Probe = (slot: number) => number;

function probeSlot(keys: DueKeys, slot: number): Probe {
  const t = keys.nextDeliverTime;
  const time = t[slot]!;
  return (other) => (t[other] !== time ? t[other]! - time : keys.ids.compare(other, slot));
}

function probeCursor(keys: DueKeys, after: DueCursor): Probe {
  const t = keys.nextDeliverTime;
  const time = after.nextDeliverTime;
  return (other) => (t[other] !== time ? t[other]! - time : keys.ids.compareTo(other, after.messageId));
}

export class DueList {
  private chunks: number[][] = [];
  private count = 0;

  /** `keys` is read at every comparison: remove a slot before its key changes, insert it after. */
  constructor(private readonly keys: () => DueKeys) {}

  get size(): number {
    return this.count;
  }

  /**
   * Replaces the content with `slots`, sorted once (recovery). Ids are compared by a number made of
   * their first 6 code units first (idPrefix), and in full only when those are equal.
   */
  load(slots: number[]): void {
    const { nextDeliverTime: t, ids } = this.keys();
    let size = 0;
    for (const slot of slots) size = Math.max(size, slot + 1);
    const prefix = new Float64Array(size);
    for (const slot of slots) prefix[slot] = ids.prefix(slot);
    slots.sort((a, b) => t[a]! - t[b]! || prefix[a]! - prefix[b]! || ids.compare(a, b));
    this.loadSorted(slots);
  }

  /** Replaces the content with `slots`, already in due order (an index snapshot's). */
  loadSorted(slots: number[]): void {
    this.chunks = [];
    for (let i = 0; i < slots.length; i += CHUNK) this.chunks.push(slots.slice(i, i + CHUNK));
    this.count = slots.length;
  }

  /** every slot, in due order */
  *inOrder(): IterableIterator<number> {
    for (const chunk of this.chunks) yield* chunk;
  }

  insert(slot: number): void {
    if (this.chunks.length === 0) {
      this.chunks.push([slot]);
      this.count++;
      return;
    }
    const probe = probeSlot(this.keys(), slot);
    const c = this.chunkAfter(probe, false);
    const chunk = this.chunks[Math.min(c, this.chunks.length - 1)]!;
    chunk.splice(this.positionIn(probe, chunk, false), 0, slot);
    this.count++;
    if (chunk.length > 2 * CHUNK) this.chunks.splice(Math.min(c, this.chunks.length - 1) + 1, 0, chunk.splice(CHUNK));
  }

  remove(slot: number): void {
    const probe = probeSlot(this.keys(), slot);
    const c = this.chunkAfter(probe, true);
    const chunk = this.chunks[c];
    if (!chunk) return;
    const at = this.positionIn(probe, chunk, true);
    if (chunk[at] !== slot) return;
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** Up to `limit` slots strictly after `after`, while nextDeliverTime <= dueBy. */
  page(dueBy: number, after: DueCursor | undefined, limit: number): number[] {
    const keys = this.keys();
    const out: number[] = [];
    let c = 0;
    let i = 0;
    if (after) {
      const probe = probeCursor(keys, after);
      c = this.chunkAfter(probe, false);
      const chunk = this.chunks[c];
      if (chunk) i = this.positionIn(probe, chunk, false);
    }
    for (; c < this.chunks.length && out.length < limit; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length && out.length < limit; i++) {
        if (keys.nextDeliverTime[chunk[i]!]! > dueBy) return out;
        out.push(chunk[i]!);
      }
    }
    return out;
  }

  /** First chunk whose last key is not before the sought one (strict: `inclusive` finds an equal key). */
  private chunkAfter(probe: Probe, inclusive: boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid]!;
      const order = probe(chunk[chunk.length - 1]!);
      if (inclusive ? order < 0 : order <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private positionIn(probe: Probe, chunk: number[], inclusive: boolean): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const order = probe(chunk[mid]!);
      if (inclusive ? order < 0 : order <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
