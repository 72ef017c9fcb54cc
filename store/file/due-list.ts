// Messages in (nextDeliverTime, messageId) order (doc/architecture.md §6 recovery paging), kept sorted as they
// change so pageDue() costs O(log n + page) instead of sorting 1,000,000 messages per page.
// A list of sorted chunks (like Python's sortedcontainers): insert/remove = binary search + a move
// within one chunk of at most 2 × CHUNK slots. A chunk is a Uint32Array (4 bytes a slot, where an
// array of small integers takes 8; doc/file-store.md "Memory") with room to grow.
import type { DueCursor } from '../contract';

const CHUNK = 512;

export interface DueKeys {
  nextDeliverTime: { get(slot: number): number };
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
  const time = t.get(slot);
  return (other) => {
    const own = t.get(other);
    return own !== time ? own - time : keys.ids.compare(other, slot);
  };
}

function probeCursor(keys: DueKeys, after: DueCursor): Probe {
  const t = keys.nextDeliverTime;
  const time = after.nextDeliverTime;
  return (other) => {
    const own = t.get(other);
    return own !== time ? own - time : keys.ids.compareTo(other, after.messageId);
  };
}

/** sorted slots in items[0, length); items.length is its room */
class Chunk {
  constructor(
    public items: Uint32Array,
    public length: number,
  ) {}

  get last(): number {
    return this.items[this.length - 1]!;
  }

  insertAt(at: number, slot: number): void {
    if (this.length === this.items.length) {
      const items = new Uint32Array(Math.min(2 * CHUNK + 1, Math.max(16, this.length * 2)));
      items.set(this.items.subarray(0, this.length));
      this.items = items;
    }
    this.items.copyWithin(at + 1, at, this.length);
    this.items[at] = slot;
    this.length++;
  }

  removeAt(at: number): void {
    this.items.copyWithin(at, at + 1, this.length);
    this.length--;
  }

  /** Moves the slots from `at` on into a new chunk. */
  splitAt(at: number): Chunk {
    const tail = new Chunk(this.items.slice(at, this.length), this.length - at);
    this.length = at;
    return tail;
  }
}

export class DueList {
  private chunks: Chunk[] = [];
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
    slots.sort((a, b) => t.get(a) - t.get(b) || prefix[a]! - prefix[b]! || ids.compare(a, b));
    this.loadSorted(slots);
  }

  /** Replaces the content with `slots`, already in due order (an index snapshot's). */
  loadSorted(slots: ArrayLike<number>): void {
    this.chunks = [];
    for (let i = 0; i < slots.length; i += CHUNK) {
      const end = Math.min(slots.length, i + CHUNK);
      const items = new Uint32Array(end - i);
      for (let j = i; j < end; j++) items[j - i] = slots[j]!;
      this.chunks.push(new Chunk(items, end - i));
    }
    this.count = slots.length;
  }

  /** every slot, in due order */
  *inOrder(): IterableIterator<number> {
    for (const chunk of this.chunks) for (let i = 0; i < chunk.length; i++) yield chunk.items[i]!;
  }

  insert(slot: number): void {
    if (this.chunks.length === 0) {
      this.chunks.push(new Chunk(Uint32Array.of(slot), 1));
      this.count++;
      return;
    }
    const probe = probeSlot(this.keys(), slot);
    const c = Math.min(this.chunkAfter(probe, false), this.chunks.length - 1);
    const chunk = this.chunks[c]!;
    chunk.insertAt(this.positionIn(probe, chunk, false), slot);
    this.count++;
    if (chunk.length > 2 * CHUNK) this.chunks.splice(c + 1, 0, chunk.splitAt(CHUNK));
  }

  remove(slot: number): void {
    const probe = probeSlot(this.keys(), slot);
    const c = this.chunkAfter(probe, true);
    const chunk = this.chunks[c];
    if (!chunk) return;
    const at = this.positionIn(probe, chunk, true);
    if (at >= chunk.length || chunk.items[at] !== slot) return;
    chunk.removeAt(at);
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
        const slot = chunk.items[i]!;
        if (keys.nextDeliverTime.get(slot) > dueBy) return out;
        out.push(slot);
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
      const order = probe(this.chunks[mid]!.last);
      if (inclusive ? order < 0 : order <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private positionIn(probe: Probe, chunk: Chunk, inclusive: boolean): number {
    const items = chunk.items;
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const order = probe(items[mid]!);
      if (inclusive ? order < 0 : order <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
