// Where the records of a segment file end: a killed broker leaves zeros written ahead of them
// (store/file/preallocate.ts), so a test that damages "the last record" must find it first.
import { readFileSync } from 'node:fs';
import { checkFrame, RECORD_HEADER_BYTES } from '../../store/file/record-codec';

export function recordsEnd(file: string): number {
  const bytes = readFileSync(file);
  let pos = 0;
  while (checkFrame(bytes, pos, bytes.length) === 'ok') pos += RECORD_HEADER_BYTES + bytes.readUInt32LE(pos);
  return pos;
}
