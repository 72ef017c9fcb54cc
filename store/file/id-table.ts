// Message ids of the file store's index, by slot (doc/file-store.md "Memory"). An id of 32 lowercase
// hex digits (what KiteQ clients send; the broker lowercases ids) is kept as its 16 bytes in one
// Buffer; any other id as a string in a sparse Map. An open-addressing hash table of slot numbers
// (linear probing, a seeded hash, deletion by backward shift) finds a slot by id: 22–28 bytes a
// message, where a string and a Map entry cost ~100. Replay looks an id up straight from a record's
// bytes (findBytes), so a STATE or DELETE record (a park, an ack) makes no string.
import { randomBytes } from 'node:crypto';

/** bytes of a packed id */
export const PACKED_BYTES = 16;
const HEX_DIGITS = 32;
const KIND_NONE = 0;
const KIND_PACKED = 1;
const KIND_TEXT = 2;
/** character codes of the 16 hex digits, by value */
const DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** value of each lowercase hex digit by character code, -1 for any other code below 128 */
const VALUES = Int8Array.from({ length: 128 }, (_, code) =>
  code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : -1,
);

/** Writes `id`'s 16 bytes at `at` when it is 32 lowercase hex digits; false (out partly written) else. */
function pack(id: string, out: Uint8Array, at: number): boolean {
  if (id.length !== HEX_DIGITS) return false;
  for (let i = 0; i < PACKED_BYTES; i++) {
    const hi = VALUES[id.charCodeAt(2 * i) & 0x7f]!;
    const lo = VALUES[id.charCodeAt(2 * i + 1) & 0x7f]!;
    if ((hi | lo) < 0 || (id.charCodeAt(2 * i) | id.charCodeAt(2 * i + 1)) > 0x7f) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

/** findBytes(): the id's bytes are not all ASCII, so they must be decoded (UTF-8) and looked up with find() */
export const NOT_ASCII = -2;

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

/** Writes the 16 bytes of the id whose ASCII bytes are buf[start, start + 32) at `out`; false if not lowercase hex. */
function packBytes(buf: Uint8Array, start: number, out: Uint8Array): boolean {
  for (let i = 0; i < PACKED_BYTES; i++) {
    const a = buf[start + 2 * i]!;
    const b = buf[start + 2 * i + 1]!;
    const hi = VALUES[a & 0x7f]!;
    const lo = VALUES[b & 0x7f]!;
    if ((hi | lo) < 0 || (a | b) > 0x7f) return false;
    out[i] = (hi << 4) | lo;
  }
  return true;
}

/** a snapshot's copy of the ids of some slots, renumbered 0..n-1 (store/file/index-snapshot.ts) */
export interface SavedIds {
  /** slots 0..count-1 have ids */
  count: number;
  /** KIND_PACKED or KIND_TEXT, one byte a slot (at least count; beyond it: room for more slots) */
  kinds: Uint8Array;
  /** 16 bytes a slot (zeros for a text id), as many slots as `kinds` */
  packed: Buffer;
  /** [slot, id] of each text id */
  text: [number, string][];
}

/**
 * Most entries the hash table holds per position before it doubles. Linear probing stays short at
 * 3/4 (~2.5 probes to find an id, ~8.5 to learn it is absent); at 1/2 the table took 8–16 bytes a
 * message, now 5.3–10.7 (doc/file-store.md "Memory").
 */
const MAX_LOAD = 0.75;

/** the table length for `n` ids: the smallest power of two (≥ 1024) they fill at most MAX_LOAD of */
export function tableLength(n: number): number {
  let length = 1024;
  while (n > length * MAX_LOAD) length *= 2;
  return length;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class IdTable {
  private packed: Buffer = Buffer.alloc(0);
  private kind: Uint8Array = new Uint8Array(0);
  private readonly text = new Map<number, string>();
  /** slot + 1 at each position, 0 = empty; its length is a power of two, at most 3/4 full (tableLength()) */
  private table = new Int32Array(1024);
  private count = 0;
  private readonly scratch = new Uint8Array(PACKED_BYTES);
  /** random per table: ids are chosen by clients, who must not be able to make them collide */
  private readonly seed = randomBytes(4).readUInt32LE(0);

  get size(): number {
    return this.count;
  }

  /** room for slots below `capacity` */
  grow(capacity: number): void {
    const packed = Buffer.alloc(capacity * PACKED_BYTES);
    this.packed.copy(packed);
    this.packed = packed;
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    this.kind = kind;
  }

  /** Gives `slot` the id `id` (not in the table). */
  set(slot: number, id: string): void {
    if (pack(id, this.packed, slot * PACKED_BYTES)) this.kind[slot] = KIND_PACKED;
    else {
      this.kind[slot] = KIND_TEXT;
      this.text.set(slot, id);
    }
    if (++this.count > this.table.length * MAX_LOAD) this.rehash(this.table.length * 2);
    const mask = this.table.length - 1;
    let at = this.hashOfSlot(slot) & mask;
    while (this.table[at] !== 0) at = (at + 1) & mask;
    this.table[at] = slot + 1;
  }

  /** Forgets `slot`'s id. */
  delete(slot: number): void {
    const kind = this.kind[slot];
    if (kind === KIND_NONE) return;
    const table = this.table;
    const mask = table.length - 1;
    let at = this.hashOfSlot(slot) & mask;
    while (table[at] !== slot + 1) at = (at + 1) & mask;
    // backward shift: move up each later entry of the run that may sit at the freed position
    for (let next = (at + 1) & mask; table[next] !== 0; next = (next + 1) & mask) {
      const home = this.hashOfSlot(table[next]! - 1) & mask;
      if (((next - home) & mask) >= ((next - at) & mask)) {
        table[at] = table[next]!;
        at = next;
      }
    }
    table[at] = 0;
    if (kind === KIND_TEXT) this.text.delete(slot);
    this.kind[slot] = KIND_NONE;
    this.count--;
  }

  find(id: string): number | undefined {
    const table = this.table;
    const mask = table.length - 1;
    if (pack(id, this.scratch, 0)) return this.findScratch();
    for (let at = this.hashText(id) & mask; ; at = (at + 1) & mask) {
      const entry = table[at]!;
      if (entry === 0) return undefined;
      if (this.kind[entry - 1] === KIND_TEXT && this.text.get(entry - 1) === id) return entry - 1;
    }
  }

  /**
   * The slot of the id whose bytes are buf[start, end), undefined if none, NOT_ASCII if they must
   * be decoded first. No string is made.
   */
  findBytes(buf: Uint8Array, start: number, end: number): number | undefined {
    const length = end - start;
    if (length === HEX_DIGITS && packBytes(buf, start, this.scratch)) return this.findScratch();
    let h = this.seed ^ 0x811c9dc5;
    let high = 0;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      high |= b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    if (high & 0x80) return NOT_ASCII;
    const table = this.table;
    const mask = table.length - 1;
    for (let at = finish(h ^ length) & mask; ; at = (at + 1) & mask) {
      const entry = table[at]!;
      if (entry === 0) return undefined;
      if (this.kind[entry - 1] !== KIND_TEXT) continue;
      const other = this.text.get(entry - 1)!;
      if (other.length !== length) continue;
      let i = 0;
      while (i < length && other.charCodeAt(i) === buf[start + i]) i++;
      if (i === length) return entry - 1;
    }
  }

  /** the slot of the packed id in `scratch` */
  private findScratch(): number | undefined {
    const table = this.table;
    const mask = table.length - 1;
    const s = this.scratch;
    const p = this.packed;
    for (let at = this.hashPacked(s, 0) & mask; ; at = (at + 1) & mask) {
      const entry = table[at]!;
      if (entry === 0) return undefined;
      const slot = entry - 1;
      if (this.kind[slot] !== KIND_PACKED) continue;
      const base = slot * PACKED_BYTES;
      let i = 0;
      while (i < PACKED_BYTES && p[base + i] === s[i]) i++;
      if (i === PACKED_BYTES) return slot;
    }
  }

  /** idPrefix of `slot`'s id, without making the string for a packed one */
  prefix(slot: number): number {
    if (this.kind[slot] !== KIND_PACKED) return idPrefix(this.idOf(slot));
    const base = slot * PACKED_BYTES;
    let n = 0;
    for (let i = 0; i < 6; i++) {
      const byte = this.packed[base + (i >> 1)]!;
      n = n * 256 + DIGITS[i & 1 ? byte & 15 : byte >> 4]!;
    }
    return n;
  }

  /** the ids of `slots`, the i-th as slot i (a snapshot's) */
  save(slots: readonly number[]): SavedIds {
    const kinds = new Uint8Array(slots.length);
    const packed = Buffer.alloc(slots.length * PACKED_BYTES);
    const text: [number, string][] = [];
    slots.forEach((slot, i) => {
      kinds[i] = this.kind[slot]!;
      if (kinds[i] === KIND_PACKED)
        this.packed.copy(packed, i * PACKED_BYTES, slot * PACKED_BYTES, (slot + 1) * PACKED_BYTES);
      else if (kinds[i] === KIND_TEXT) text.push([i, this.text.get(slot)!]);
      else throw new Error(`IdTable.save: slot ${slot} has no id`);
    });
    return { count: slots.length, kinds, packed, text };
  }

  /**
   * Fills an empty table with `saved`'s ids at slots 0..count-1, with room for slots below
   * `capacity`; saved arrays with exactly that room (zeros past count) are adopted, not copied.
   */
  restore(saved: SavedIds, capacity: number): void {
    const n = saved.count;
    if (this.count > 0) throw new Error('IdTable.restore: the table is not empty');
    const room = saved.kinds.length;
    if (capacity < n || room < n || saved.packed.length !== room * PACKED_BYTES) {
      throw new Error('IdTable.restore: sizes differ');
    }
    if (room === capacity) {
      this.kind = saved.kinds;
      this.packed = saved.packed;
    } else {
      this.grow(capacity);
      saved.packed.copy(this.packed, 0, 0, n * PACKED_BYTES);
      this.kind.set(saved.kinds.subarray(0, n));
    }
    let texts = 0;
    for (let slot = 0; slot < n; slot++) {
      const kind = this.kind[slot];
      if (kind === KIND_TEXT) texts++;
      else if (kind !== KIND_PACKED) throw new Error(`IdTable.restore: slot ${slot} has no id`);
    }
    for (const [slot, id] of saved.text) {
      if (this.kind[slot] !== KIND_TEXT || this.text.has(slot)) throw new Error(`IdTable.restore: text id at ${slot}`);
      this.text.set(slot, id);
    }
    if (this.text.size !== texts) throw new Error('IdTable.restore: a text id is missing');
    this.count = n;
    const length = tableLength(n);
    const table = new Int32Array(length);
    const mask = length - 1;
    for (let slot = 0; slot < n; slot++) {
      let at = this.hashOfSlot(slot) & mask;
      while (table[at] !== 0) at = (at + 1) & mask;
      table[at] = slot + 1;
    }
    this.table = table;
  }

  /** the id of a slot that has one ('' else) */
  idOf(slot: number): string {
    const kind = this.kind[slot];
    if (kind === KIND_PACKED) return this.packed.toString('hex', slot * PACKED_BYTES, (slot + 1) * PACKED_BYTES);
    return kind === KIND_TEXT ? this.text.get(slot)! : '';
  }

  /** does `slot` hold the id `id`? (no string is made) */
  is(slot: number, id: string): boolean {
    const kind = this.kind[slot];
    if (kind === KIND_TEXT) return this.text.get(slot) === id;
    return kind === KIND_PACKED && this.compareTo(slot, id) === 0;
  }

  /** the order of `slot`'s id against `id`, as JavaScript compares strings (< 0, 0, > 0) */
  compareTo(slot: number, id: string): number {
    if (this.kind[slot] !== KIND_PACKED) {
      const own = this.idOf(slot);
      return own < id ? -1 : own > id ? 1 : 0;
    }
    const base = slot * PACKED_BYTES;
    const n = Math.min(HEX_DIGITS, id.length);
    for (let i = 0; i < n; i++) {
      const byte = this.packed[base + (i >> 1)]!;
      const own = DIGITS[i & 1 ? byte & 15 : byte >> 4]!;
      const other = id.charCodeAt(i);
      if (own !== other) return own - other;
    }
    return HEX_DIGITS - id.length;
  }

  /** the order of two slots' ids, as JavaScript compares the strings */
  compare(a: number, b: number): number {
    if (this.kind[a] === KIND_PACKED && this.kind[b] === KIND_PACKED) {
      const p = this.packed;
      const x = a * PACKED_BYTES;
      const y = b * PACKED_BYTES;
      for (let i = 0; i < PACKED_BYTES; i++) if (p[x + i] !== p[y + i]) return p[x + i]! - p[y + i]!;
      return 0;
    }
    return this.kind[a] === KIND_PACKED ? this.compareTo(a, this.idOf(b)) : -this.compareTo(b, this.idOf(a));
  }

  private hashOfSlot(slot: number): number {
    return this.kind[slot] === KIND_PACKED
      ? this.hashPacked(this.packed, slot * PACKED_BYTES)
      : this.hashText(this.text.get(slot)!);
  }

  private hashPacked(bytes: Uint8Array, at: number): number {
    let h = this.seed;
    for (let i = 0; i < PACKED_BYTES; i += 4) {
      const word = bytes[at + i]! | (bytes[at + i + 1]! << 8) | (bytes[at + i + 2]! << 16) | (bytes[at + i + 3]! << 24);
      h = Math.imul(h ^ word, 0x9e3779b1);
      h = (h << 13) | (h >>> 19);
    }
    return finish(h);
  }

  private hashText(id: string): number {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    return finish(h ^ id.length);
  }

  private rehash(length: number): void {
    const old = this.table;
    const table = new Int32Array(length);
    const mask = length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      let at = this.hashOfSlot(entry - 1) & mask;
      while (table[at] !== 0) at = (at + 1) & mask;
      table[at] = entry;
    }
    this.table = table;
  }
}
