// Segment files of the file store for tests that damage them: where the records end (a killed
// broker leaves zeros written ahead of them, store/file/preallocate.ts), what each record is, and
// byte-level damage. Layout: doc/file-store.md "On disk".
import { closeSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkFrame, RECORD_HEADER_BYTES, Reader, RecordType } from '../../store/file/record-codec';

export interface SegmentRecord {
  offset: number;
  /** header + payload */
  length: number;
  type: 'message' | 'state' | 'delete';
  id: string;
}

const TYPE_NAMES = {
  [RecordType.MESSAGE]: 'message',
  [RecordType.STATE]: 'state',
  [RecordType.DELETE]: 'delete',
} as const;

/** the segment files of a store directory, in id (write) order */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^seg-\d{10}\.log$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** the intact records from the start of the file up to the first that is not */
export function recordsIn(file: string): SegmentRecord[] {
  const bytes = readFileSync(file);
  const out: SegmentRecord[] = [];
  for (let pos = 0; checkFrame(bytes, pos, bytes.length) === 'ok';) {
    const length = RECORD_HEADER_BYTES + bytes.readUInt32LE(pos);
    const type = TYPE_NAMES[bytes[pos + 8] as 1 | 2 | 3];
    out.push({ offset: pos, length, type, id: new Reader(bytes, pos + RECORD_HEADER_BYTES).str() });
    pos += length;
  }
  return out;
}

export function recordsEnd(file: string): number {
  const records = recordsIn(file);
  const last = records[records.length - 1];
  return last ? last.offset + last.length : 0;
}

/** the first record of `type` that starts at or after `offset` */
export function recordAtOrAfter(file: string, offset: number, type: SegmentRecord['type']): SegmentRecord {
  const found = recordsIn(file).find((r) => r.offset >= offset && r.type === type);
  if (!found) throw new Error(`no ${type} record at or after offset ${offset} of ${file}`);
  return found;
}

export function readBytes(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function writeBytes(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** flips the bits of one byte */
export function flipByte(file: string, offset: number, mask = 0x5a): void {
  const byte = readBytes(file, offset, 1);
  byte[0] ^= mask;
  writeBytes(file, offset, byte);
}
