// Damage in a segment (doc/file-store.md "Recovery"): where the next intact record
// starts after a damaged one, and the damaged bytes kept under <dir>/damaged/ before anything is cut.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkFrame, MAX_RECORD_BYTES, RECORD_HEADER_BYTES, RecordType } from './record-codec';
import { type OpenSegment, readFully, syncDirectory, writeFully } from './segment-files';

/** a record header plus its id's length: what a candidate record must show before its CRC is checked */
const PROBE_BYTES = RECORD_HEADER_BYTES + 4;

export interface NextRecord {
  offset: number;
  /** skipped: the damaged record's length held (the record after it is intact); resynchronised: found by scanning */
  how: 'skipped' | 'resynchronised';
}

/**
 * Cheap test before a CRC: a known type, a length that fits in what is left, and an id (every
 * record starts with one) that fits in the payload. Random bytes pass at about one offset in a
 * million (fewer near a segment's end), text almost never (its bytes make lengths beyond any segment).
 */
function plausible(buf: Buffer, at: number, remaining: number): boolean {
  const type = buf[at + 8]!;
  if (type < RecordType.MESSAGE || type > RecordType.DELETE) return false;
  const length = buf.readUInt32LE(at);
  if (length < 5 || length > MAX_RECORD_BYTES || RECORD_HEADER_BYTES + length > remaining) return false;
  const idLength = buf.readUInt32LE(at + RECORD_HEADER_BYTES);
  return idLength >= 1 && idLength + 4 <= length;
}

/** true if an intact record starts at `offset` of the file (read on its own) */
async function intactAt(segment: OpenSegment, offset: number, fileSize: number): Promise<boolean> {
  if (offset + PROBE_BYTES > fileSize) return false;
  const probe = Buffer.allocUnsafe(PROBE_BYTES);
  if ((await readFully(segment.file, probe, offset)) < PROBE_BYTES || !plausible(probe, 0, fileSize - offset))
    return false;
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + probe.readUInt32LE(0));
  const got = await readFully(segment.file, record, offset);
  return checkFrame(record, 0, got) === 'ok';
}

/** the id of the intact record at `offset` */
export async function idAt(segment: OpenSegment, offset: number): Promise<string> {
  const probe = Buffer.allocUnsafe(PROBE_BYTES);
  await readFully(segment.file, probe, offset);
  const idLength = probe.readUInt32LE(RECORD_HEADER_BYTES);
  const id = Buffer.allocUnsafe(idLength);
  await readFully(segment.file, id, offset + PROBE_BYTES);
  return id.toString('utf8');
}

/**
 * Where replay goes on after the damaged record at `at`: right after it when its length field still
 * holds (the record there is intact), else at the first offset past `at` where a record's length and
 * CRC32C check out. undefined: no intact record follows, the damage runs to the end of the file.
 */
export async function nextIntactRecord(
  segment: OpenSegment,
  at: number,
  fileSize: number,
  buf: Buffer,
): Promise<NextRecord | undefined> {
  const header = Buffer.allocUnsafe(4);
  if ((await readFully(segment.file, header, at)) === 4) {
    const after = at + RECORD_HEADER_BYTES + header.readUInt32LE(0);
    if (after > at + RECORD_HEADER_BYTES && after < fileSize && (await intactAt(segment, after, fileSize)))
      return { offset: after, how: 'skipped' };
  }
  const offset = await scanForRecord(segment, at + 1, fileSize, buf);
  return offset === undefined ? undefined : { offset, how: 'resynchronised' };
}

async function scanForRecord(
  segment: OpenSegment,
  from: number,
  fileSize: number,
  buf: Buffer,
): Promise<number | undefined> {
  for (let start = from; start + PROBE_BYTES <= fileSize;) {
    const got = Math.min(await readFully(segment.file, buf, start), fileSize - start);
    const last = got - PROBE_BYTES;
    for (let i = 0; i <= last; i++) {
      if (!plausible(buf, i, fileSize - start - i)) continue;
      const end = i + RECORD_HEADER_BYTES + buf.readUInt32LE(i);
      if (end <= got ? checkFrame(buf, i, got) === 'ok' : await intactAt(segment, start + i, fileSize))
        return start + i;
    }
    if (start + got >= fileSize) break;
    start += last + 1;
  }
  return undefined;
}

/** the end of the last byte that is not zero at or after `from` (zeros written ahead are no evidence) */
export async function nonZeroEnd(segment: OpenSegment, from: number, fileSize: number, buf: Buffer): Promise<number> {
  for (let end = fileSize; end > from;) {
    const start = Math.max(from, end - buf.length);
    const got = await readFully(segment.file, buf.subarray(0, end - start), start);
    for (let i = got - 1; i >= 0; i--) if (buf[i] !== 0) return start + i + 1;
    end = start;
  }
  return from;
}

export function damagedDir(dir: string): string {
  return path.join(dir, 'damaged');
}

/**
 * Copies bytes [from, to) of a segment to <dir>/damaged/seg-<id>-<offset>.bin, durably (file and
 * directory fsynced) so the evidence outlives a truncation that follows. A copy already there from an
 * earlier start (damage in the middle stays in its segment) is kept as it is.
 */
export async function keepDamagedBytes(
  dir: string,
  segment: OpenSegment,
  from: number,
  to: number,
  buf: Buffer,
): Promise<string> {
  const into = damagedDir(dir);
  const target = path.join(into, `seg-${String(segment.id).padStart(10, '0')}-${from}.bin`);
  const existing = await fs.stat(target).catch(() => undefined);
  if (existing?.size === to - from) return target;
  await fs.mkdir(into, { recursive: true });
  const partial = `${target}.partial`;
  const out = await fs.open(partial, 'w');
  try {
    for (let pos = from; pos < to;) {
      const got = await readFully(segment.file, buf.subarray(0, Math.min(buf.length, to - pos)), pos);
      if (got === 0) break;
      await writeFully(out, buf.subarray(0, got), pos - from);
      pos += got;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await fs.rename(partial, target);
  await syncDirectory(into);
  await syncDirectory(dir);
  return target;
}
