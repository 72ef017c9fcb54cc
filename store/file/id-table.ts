// Message id → slot for the file store's index (doc/file-store.md "Memory"): open addressing with
// linear probing over an Int32Array of slots, the ids themselves in the index's `ids` array. Replay
// looks an id up straight from a record's bytes, so a STATE or DELETE record (a park, an ack) costs
// no string; only a new message's MESSAGE record makes one. A Map<string, number> of 10^6 ids cost
// a fresh string and a hash per record and ~40 MB; this is 8 MB of table plus 4 MB of hashes.

const EMPTY = -1;
/** getBytes(): the id's bytes are not all ASCII, so they must be decoded (UTF-8) and looked up as a string */
export const NOT_ASCII = -2;

/** FNV-1a over the id's UTF-16 code units (= its bytes when ASCII, as ids are) */
export function hashString(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class IdTable {
  private table = new Int32Array(1024).fill(EMPTY);
  private mask = 1023;
  /** hash of the id in each slot, so growth rehashes without reading the strings */
  private hashes = new Uint32Array(1024);
  private count = 0;

  /** `ids[slot]` is the id of a slot in the table (the index's array, read at every compare) */
  constructor(private readonly ids: () => readonly string[]) {}

  get size(): number {
    return this.count;
  }

  get(id: string): number | undefined {
    const slot = this.find(id, hashString(id));
    return slot === EMPTY ? undefined : slot;
  }

  /** The slot of the id whose bytes are buf[start, end), undefined if none, NOT_ASCII if they must be decoded. */
  getBytes(buf: Uint8Array, start: number, end: number): number | undefined {
    let h = 0x811c9dc5;
    let high = 0;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      high |= b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    if (high & 0x80) return NOT_ASCII;
    h >>>= 0;
    const ids = this.ids();
    const length = end - start;
    for (let p = h & this.mask; ; p = (p + 1) & this.mask) {
      const slot = this.table[p]!;
      if (slot === EMPTY) return undefined;
      if (this.hashes[slot] !== h) continue;
      const other = ids[slot]!;
      if (other.length !== length) continue;
      let i = 0;
      while (i < length && other.charCodeAt(i) === buf[start + i]) i++;
      if (i === length) return slot;
    }
  }

  /** Adds `id` (not in the table) at `slot`. */
  set(id: string, slot: number): void {
    if (2 * (this.count + 1) > this.table.length) this.resize(this.table.length * 2);
    if (slot >= this.hashes.length) {
      const hashes = new Uint32Array(Math.max(slot + 1, this.hashes.length * 2));
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const h = hashString(id);
    this.hashes[slot] = h;
    let p = h & this.mask;
    while (this.table[p] !== EMPTY) p = (p + 1) & this.mask;
    this.table[p] = slot;
    this.count++;
  }

  /** Removes `id` (backward-shift deletion: no tombstones, so lookups never slow down). */
  delete(id: string): void {
    const mask = this.mask;
    const table = this.table;
    let p = this.position(id, hashString(id));
    if (p === EMPTY) return;
    this.count--;
    for (let q = (p + 1) & mask; table[q] !== EMPTY; q = (q + 1) & mask) {
      const home = this.hashes[table[q]!]! & mask;
      // the entry at q may move into the hole at p when p lies cyclically within [home, q)
      if ((q > p && (home <= p || home > q)) || (q < p && home <= p && home > q)) {
        table[p] = table[q]!;
        p = q;
      }
    }
    table[p] = EMPTY;
  }

  private find(id: string, h: number): number {
    const p = this.position(id, h);
    return p === EMPTY ? EMPTY : this.table[p]!;
  }

  /** the table position holding `id`, or EMPTY */
  private position(id: string, h: number): number {
    const ids = this.ids();
    for (let p = h & this.mask; ; p = (p + 1) & this.mask) {
      const slot = this.table[p]!;
      if (slot === EMPTY) return EMPTY;
      if (this.hashes[slot] === h && ids[slot] === id) return p;
    }
  }

  private resize(capacity: number): void {
    const table = new Int32Array(capacity).fill(EMPTY);
    const mask = capacity - 1;
    for (const slot of this.table) {
      if (slot === EMPTY) continue;
      let p = this.hashes[slot]! & mask;
      while (table[p] !== EMPTY) p = (p + 1) & mask;
      table[p] = slot;
    }
    this.table = table;
    this.mask = mask;
  }
}
