// A number per slot of the file store's index, kept in the narrowest width that holds every value
// written to it so far (doc/file-store.md "Memory"): none while every value is 0 (most columns of a
// backlog: no retries, no checks, one topic, no group results), then 16-bit, 32-bit unsigned
// integers, then float64 (any number). It only ever widens: one copy of the column, once.

/** bytes a value: 0 (every value is 0, no array), 2, 4 (unsigned integers) or 8 (float64) */
export type Width = 0 | 2 | 4 | 8;
type Values = Uint16Array | Uint32Array | Float64Array;

const make = (width: Width, n: number): Values | null =>
  width === 2 ? new Uint16Array(n) : width === 4 ? new Uint32Array(n) : width === 8 ? new Float64Array(n) : null;

/** the narrowest width that holds `value` */
function widthOf(value: number): Width {
  if (value === 0) return 0;
  if ((value & 0xffff) === value) return 2;
  return value >>> 0 === value ? 4 : 8;
}

export class NarrowColumn {
  private values: Values | null = null;
  private bytes: Width = 0;
  private capacity = 0;

  get width(): Width {
    return this.bytes;
  }

  get(slot: number): number {
    const values = this.values;
    return values === null ? 0 : values[slot]!;
  }

  set(slot: number, value: number): void {
    const values = this.values;
    if (values === null) {
      if (value === 0) return;
    } else if (values[slot] === value) return;
    if (widthOf(value) > this.bytes) this.widen(widthOf(value));
    this.values![slot] = value;
  }

  /** room for slots below `capacity` */
  grow(capacity: number): void {
    this.capacity = capacity;
    if (this.values === null) return;
    const next = make(this.bytes, capacity)!;
    next.set(this.values);
    this.values = next;
  }

  /** the values of `slots`, the i-th at i, as the raw bytes of an array of this width (a snapshot's) */
  save(slots: readonly number[]): Buffer {
    const out = make(this.bytes, slots.length);
    if (out === null) return Buffer.alloc(0);
    const values = this.values!;
    for (let i = 0; i < slots.length; i++) out[i] = values[slots[i]!]!;
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** An array of `width` and `capacity` slots to fill from a snapshot and hand to adopt() (null for width 0). */
  static alloc(width: Width, capacity: number): Values | null {
    return make(width, capacity);
  }

  /** Takes `values` (from alloc(), of `width`) as the column, with room for slots below `capacity`. */
  adopt(width: Width, values: Values | null, capacity: number): void {
    if ((values?.length ?? capacity) !== capacity || (values === null) !== (width === 0)) {
      throw new Error(`NarrowColumn.adopt: not a ${capacity}-slot column of width ${width}`);
    }
    this.values = values;
    this.bytes = width;
    this.capacity = capacity;
  }

  private widen(width: Width): void {
    const next = make(width, this.capacity)!;
    if (this.values !== null) next.set(this.values);
    this.values = next;
    this.bytes = width;
  }
}
