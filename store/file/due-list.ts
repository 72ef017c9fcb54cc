// Messages in (nextDeliverTime, messageId) order (doc/architecture.md §6 recovery paging), kept sorted as they
// change so pageDue() costs O(log n + page) instead of sorting 1,000,000 messages per page.
// A list of sorted chunks (like Python's sortedcontainers): insert/remove = binary search + a splice
// within one chunk of at most 2 × CHUNK slots.
import type { DueCursor } from '../contract';

const CHUNK = 512;

export interface DueKeys {
  nextDeliverTime: Float64Array;
  ids: string[];
}

/**
 * A number in the order of the strings: its first 6 UTF-16 code units, 8 bits each (48 bits, exact
 * in a double); a unit of 255 or more counts as 255 and ends the prefix (zeros after it). Different
 * numbers order as their strings do; equal ones say nothing (compare the strings).
 */
export function idPrefix(id: string): number {
  let n = 0;
  let i = 0;
  for (; i < 6 && i < id.length; i++) {
    const unit = id.charCodeAt(i);
    if (unit >= 255) {
      n = n * 256 + 255;
      i++;
      break;
    }
    n = n * 256 + unit;
  }
  for (; i < 6; i++) n *= 256;
  return n;
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
   * their first 6 code units first (idPrefix), and as strings only when those are equal: 10^6
   * string compares per sort level cost ~3× the sort itself.
   */
  load(slots: number[]): void {
    const { nextDeliverTime: t, ids } = this.keys();
    const prefix = new Float64Array(ids.length);
    for (const slot of slots) prefix[slot] = idPrefix(ids[slot]!);
    slots.sort(
      (a, b) => t[a]! - t[b]! || prefix[a]! - prefix[b]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0),
    );
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
    const keys = this.keys();
    const time = keys.nextDeliverTime[slot]!;
    const id = keys.ids[slot]!;
    if (this.chunks.length === 0) {
      this.chunks.push([slot]);
      this.count++;
      return;
    }
    const c = this.chunkAfter(keys, time, id, false);
    const chunk = this.chunks[Math.min(c, this.chunks.length - 1)]!;
    chunk.splice(this.positionIn(keys, chunk, time, id, false), 0, slot);
    this.count++;
    if (chunk.length > 2 * CHUNK) this.chunks.splice(Math.min(c, this.chunks.length - 1) + 1, 0, chunk.splice(CHUNK));
  }

  remove(slot: number): void {
    const keys = this.keys();
    const time = keys.nextDeliverTime[slot]!;
    const id = keys.ids[slot]!;
    const c = this.chunkAfter(keys, time, id, true);
    const chunk = this.chunks[c];
    if (!chunk) return;
    const at = this.positionIn(keys, chunk, time, id, true);
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
      c = this.chunkAfter(keys, after.nextDeliverTime, after.messageId, false);
      const chunk = this.chunks[c];
      if (chunk) i = this.positionIn(keys, chunk, after.nextDeliverTime, after.messageId, false);
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

  /** is slot's key before (time, id)? `orEqual` also counts an equal key */
  private before(keys: DueKeys, slot: number, time: number, id: string, orEqual: boolean): boolean {
    const t = keys.nextDeliverTime[slot]!;
    if (t !== time) return t < time;
    const other = keys.ids[slot]!;
    return orEqual ? other <= id : other < id;
  }

  /** First chunk whose last key is not before (time,id) (strict: `inclusive` finds an equal key). */
  private chunkAfter(keys: DueKeys, time: number, id: string, inclusive: boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid]!;
      if (this.before(keys, chunk[chunk.length - 1]!, time, id, !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private positionIn(keys: DueKeys, chunk: number[], time: number, id: string, inclusive: boolean): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(keys, chunk[mid]!, time, id, !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
