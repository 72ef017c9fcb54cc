// The index as a clean stop left it (doc/file-store.md "Recovery"): `stop()` writes <dir>/INDEX, and
// the next start loads it instead of replaying every record, if the segments are exactly the files,
// of exactly the sizes and modification times, it names. Records are only ever appended (a failed
// batch is cut back to where it began), so any write since, and any crash, changes a size or the set
// of files; the time catches a write in place (damage done while the broker was down, which replay
// would find and report). The snapshot is then stale and replay runs as before. The start deletes
// it either way.
//
// Layout: u32 magic, u32 version, u32 crc32c of the rest, u32 meta length, meta (JSON: segments and
// their ledger, topics, group pairs, dead letters, the ids that are not packed, counts, the width of
// each narrow column), then each SLOT_COLUMNS column as its raw bytes, each NARROW_COLUMNS column as
// its raw bytes at its width (none at width 0: narrow-column.ts), the ids' kinds (u8) and packed
// bytes (16 a slot: id-table.ts), and the committed and prepared due orders (u32 slots).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { PACKED_BYTES } from './id-table';
import {
  type FixedColumn,
  NARROW_COLUMNS,
  type NarrowColumnName,
  SLOT_COLUMNS,
  type SlotColumn,
} from './message-index';
import { NarrowColumn, type Width } from './narrow-column';
import { type OpenSegment, readFully, syncDirectory } from './segment-files';
import type { StoreState } from './store-state';

const FILE = 'INDEX';
const MAGIC = 0x5849514b;
/** bump when what a column or the meta means changes (a new column changes the size: not loaded) */
const VERSION = 4;
const HEADER_BYTES = 16;

type Column = FixedColumn | Float64Array;

interface Meta {
  count: number;
  /** [slot, id] of each id that is not packed */
  textIds: [number, string][];
  committed: number;
  prepared: number;
  segments: {
    id: number;
    size: number;
    mtimeMs: number;
    refs: number;
    liveBytes: number;
    hiding: number;
    hiddenBy: number[][];
  }[];
  topics: string[];
  pairs: (readonly [readonly string[], readonly string[]])[];
  dead: [number, number, string][];
  /** bytes a value of each narrow column (0: all zeros, not written) */
  widths: Record<NarrowColumnName, Width>;
}

const bytesOf = (column: Column): Buffer => Buffer.from(column.buffer, column.byteOffset, column.byteLength);

/** the files as they are on disk now: id, size, modification time */
async function filesOf(segments: readonly OpenSegment[]) {
  return await Promise.all(
    segments.map(async (segment) => {
      const { size, mtimeMs } = await segment.file.stat();
      return { id: segment.id, size, mtimeMs };
    }),
  );
}

/** Writes the snapshot of `state` for these segments (all of them, in id order), atomically. */
export async function writeSnapshot(dir: string, state: StoreState, segments: readonly OpenSegment[]) {
  const index = state.index;
  const files = await filesOf(segments);
  // slots renumbered 0..count-1, so the snapshot has no holes
  const renumber = new Int32Array(index.slotCount).fill(-1);
  const slots: number[] = [];
  for (const slot of index.slots()) {
    if (!index.isVisible(slot)) continue;
    renumber[slot] = slots.length;
    slots.push(slot);
  }
  const count = slots.length;
  const columns: Buffer[] = SLOT_COLUMNS.map((name) => {
    const source = index[name] as Column;
    const out = new (source.constructor as new (n: number) => Column)(count);
    for (let i = 0; i < count; i++) out[i] = source[slots[i]!]!;
    return bytesOf(out);
  });
  for (const name of NARROW_COLUMNS) columns.push(index[name].save(slots));
  const ids = index.ids.save(slots);
  const order = (list: Iterable<number>): Uint32Array => Uint32Array.from(list, (slot) => renumber[slot]!);
  const committed = order(state.committedDue.inOrder());
  const prepared = order(state.preparedDue.inOrder());
  const dead: [number, number, string][] = [];
  for (const slot of index.deadSlots()) {
    const letter = index.deadOf(slot);
    if (letter && renumber[slot]! >= 0) dead.push([renumber[slot]!, letter.deadTime, letter.reason]);
  }
  const meta: Meta = {
    count,
    textIds: ids.text,
    committed: committed.length,
    prepared: prepared.length,
    segments: files.map(({ id, size, mtimeMs }) => {
      const usage = state.ledger.get(id)!;
      return {
        id,
        size,
        mtimeMs,
        refs: usage.refs,
        liveBytes: usage.liveBytes,
        hiding: usage.hiding,
        hiddenBy: [...usage.hiddenBy],
      };
    }),
    topics: index.topics,
    pairs: index.groupPairs().map(([succ, fail]) => [succ, fail] as const),
    dead,
    widths: index.narrowWidths(),
  };
  const parts = [
    Buffer.from(JSON.stringify(meta)),
    ...columns,
    bytesOf(ids.kinds),
    ids.packed,
    bytesOf(committed),
    bytesOf(prepared),
  ];
  let crc = 0;
  for (const part of parts) crc = crc32c(part, crc);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(VERSION, 4);
  header.writeUInt32LE(crc, 8);
  header.writeUInt32LE(parts[0]!.length, 12);
  const temp = join(dir, `${FILE}.tmp`);
  const file = await fs.open(temp, 'w');
  try {
    await file.writev([header, ...parts]);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(temp, join(dir, FILE));
  await syncDirectory(dir);
  return { messages: count, bytes: HEADER_BYTES + parts.reduce((n, p) => n + p.length, 0) };
}

/**
 * Loads the snapshot into an empty `state` if there is one and it matches `segments` (every file,
 * every size); false: none, or stale, damaged, of another version (replay then). Deletes the file.
 * Read section by section straight into the index's arrays: no copy of the whole file in memory.
 */
export async function loadSnapshot(dir: string, state: StoreState, segments: readonly OpenSegment[]): Promise<boolean> {
  const path = join(dir, FILE);
  let file: fs.FileHandle;
  try {
    file = await fs.open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await fs.rm(`${path}.tmp`, { force: true });
    return false;
  }
  try {
    return await load(file, state, segments);
  } finally {
    await file.close();
    await fs.rm(path, { force: true });
    await fs.rm(`${path}.tmp`, { force: true });
  }
}

async function load(file: fs.FileHandle, state: StoreState, segments: readonly OpenSegment[]): Promise<boolean> {
  const header = Buffer.alloc(HEADER_BYTES);
  if ((await readFully(file, header, 0)) < HEADER_BYTES) return false;
  if (header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) !== VERSION) return false;
  let pos = HEADER_BYTES;
  let crc = 0;
  /** the next `bytes` of the file into `target` (from its start), counted in the CRC; false: the file is short */
  const read = async (target: Uint8Array, bytes: number): Promise<boolean> => {
    const view = Buffer.from(target.buffer, target.byteOffset, bytes);
    if ((await readFully(file, view, pos)) < bytes) return false;
    crc = crc32c(view, crc);
    pos += bytes;
    return true;
  };
  const metaBytes = Buffer.allocUnsafe(header.readUInt32LE(12));
  if (!(await read(metaBytes, metaBytes.length))) return false;
  let meta: Meta;
  try {
    meta = JSON.parse(metaBytes.toString('utf8')) as Meta;
  } catch {
    return false;
  }
  const index = state.index;
  const count = meta.count;
  const widths = meta.widths;
  if (typeof widths !== 'object' || NARROW_COLUMNS.some((name) => ![0, 2, 4, 8].includes(widths[name]))) return false;
  const slotBytes =
    SLOT_COLUMNS.reduce((n, name) => n + index[name].BYTES_PER_ELEMENT, 0) +
    NARROW_COLUMNS.reduce((n, name) => n + widths[name], 0) +
    1 +
    PACKED_BYTES;
  const expected = pos + count * slotBytes + 4 * (meta.committed + meta.prepared);
  if (expected !== (await file.stat()).size) return false; // and no allocation sized by a damaged count
  const files = await filesOf(segments);
  const same =
    meta.segments.length === files.length &&
    meta.segments.every(
      (s, i) => s.id === files[i]!.id && s.size === files[i]!.size && s.mtimeMs === files[i]!.mtimeMs,
    );
  if (!same) return false;

  // arrays of the index's own capacity, read into and adopted as they are: no second copy
  let capacity = 1024;
  while (capacity < count) capacity *= 2;
  const columns = {} as Record<SlotColumn, FixedColumn>;
  for (const name of SLOT_COLUMNS) {
    const column = new (index[name].constructor as new (n: number) => FixedColumn)(capacity);
    if (!(await read(new Uint8Array(column.buffer), count * column.BYTES_PER_ELEMENT))) return false;
    columns[name] = column;
  }
  const narrow = {} as Parameters<typeof index.restore>[2];
  for (const name of NARROW_COLUMNS) {
    const values = NarrowColumn.alloc(widths[name], capacity);
    if (values && !(await read(new Uint8Array(values.buffer), count * widths[name]))) return false;
    narrow[name] = { width: widths[name], values };
  }
  const kinds = new Uint8Array(capacity);
  const packed = Buffer.allocUnsafe(capacity * PACKED_BYTES);
  const committed = new Uint32Array(meta.committed);
  const prepared = new Uint32Array(meta.prepared);
  for (const [target, bytes] of [
    [kinds, count],
    [packed, count * PACKED_BYTES],
    [committed, committed.byteLength],
    [prepared, prepared.byteLength],
  ] as const) {
    if (!(await read(new Uint8Array(target.buffer, target.byteOffset, target.byteLength), bytes))) return false;
  }
  if (crc !== header.readUInt32LE(8)) return false;

  const pairs = meta.pairs.map(([succ, fail]) => [succ.map(index.intern), fail.map(index.intern)] as const);
  index.restore({ count, kinds, packed, text: meta.textIds }, columns, narrow, meta.topics, pairs, meta.dead);
  for (const s of meta.segments) {
    const usage = state.ledger.add(s.id, s.size);
    usage.refs = s.refs;
    usage.liveBytes = s.liveBytes;
    usage.hiding = s.hiding;
    for (const [newer, n] of s.hiddenBy) usage.hiddenBy.set(newer!, n!);
  }
  state.finishReplay({ committed, prepared });
  return true;
}

/** Deletes a snapshot and a half-written one (a stop that could not finish writing it). */
export async function dropSnapshot(dir: string): Promise<void> {
  await fs.rm(join(dir, FILE), { force: true });
  await fs.rm(join(dir, `${FILE}.tmp`), { force: true });
}
