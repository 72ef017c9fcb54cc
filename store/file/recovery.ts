// Recovery on start (design §8): replay every segment in order with large sequential reads, verify
// each record's CRC, and stop a segment at the first torn or corrupt record: truncate it there and
// say so. Nothing before the damage is lost.
import type { Logger } from 'pino';
import { checkFrame, RECORD_HEADER_BYTES, Reader, readState, RecordType } from './record-codec';
import { finishRemovals, listSegmentIds, type OpenSegment, openSegment, readFully } from './segment-files';
import type { StoreState } from './store-state';

const CHUNK_BYTES = 8 * 1024 * 1024;

export interface RecoveryReport {
  segments: number;
  records: number;
  droppedBytes: number;
  ms: number;
}

/** Replays one segment into `state`; returns how many records were good, truncating damage. */
async function replaySegment(segment: OpenSegment, state: StoreState, logger: Logger, report: RecoveryReport, chunk: Buffer) {
  let buf = chunk; // one 8 MiB buffer for every segment: recovery's memory stays flat
  let filePos = 0;
  let damage: 'torn' | 'corrupt' | undefined;
  while (filePos < segment.size && !damage) {
    const got = await readFully(segment.file, buf, filePos);
    const atEnd = filePos + got >= segment.size;
    let pos = 0;
    while (pos < got) {
      const verdict = checkFrame(buf, pos, got);
      if (verdict === 'torn' && !atEnd) {
        // the record runs past this chunk: read again from its start (a bigger buffer if it must)
        const need = got - pos >= 4 ? RECORD_HEADER_BYTES + buf.readUInt32LE(pos) : RECORD_HEADER_BYTES;
        if (filePos + pos + need > segment.size) {
          damage = 'torn';
          break;
        }
        if (need > buf.length) buf = Buffer.allocUnsafe(need);
        break;
      }
      if (verdict !== 'ok') {
        damage = verdict;
        break;
      }
      applyRecord(buf, pos, segment.id, filePos + pos, state);
      report.records++;
      pos += RECORD_HEADER_BYTES + buf.readUInt32LE(pos);
    }
    filePos += pos;
    if (got === 0) break;
  }
  if (filePos < segment.size) {
    if (await zerosFrom(segment, filePos, buf)) {
      // zeros written ahead of the records (preallocate.ts): the records end here, nothing is damaged
      segment.size = filePos;
      return;
    }
    const dropped = segment.size - filePos;
    report.droppedBytes += dropped;
    logger.warn(
      { segment: segment.id, offset: filePos, droppedBytes: dropped, reason: damage ?? 'torn' },
      `file store: segment ${segment.id} has a ${damage ?? 'torn'} record at offset ${filePos}; ` +
        `truncating ${dropped} bytes after the last intact record`,
    );
    await segment.file.truncate(filePos);
    await segment.file.sync();
    segment.size = filePos;
    segment.allocated = filePos;
  }
}

/** true if the segment holds only zero bytes from `from` to its end */
async function zerosFrom(segment: OpenSegment, from: number, buf: Buffer): Promise<boolean> {
  for (let pos = from; pos < segment.allocated; ) {
    const got = await readFully(segment.file, buf, pos);
    if (got === 0) break;
    for (let i = 0; i < got; i++) if (buf[i] !== 0) return false;
    pos += got;
  }
  return true;
}

function applyRecord(buf: Buffer, pos: number, segment: number, offset: number, state: StoreState): void {
  const length = RECORD_HEADER_BYTES + buf.readUInt32LE(pos);
  const type = buf[pos + 8];
  const r = new Reader(buf, pos + RECORD_HEADER_BYTES);
  const id = r.str();
  if (type === RecordType.MESSAGE) {
    const messageState = readState(r, state.index.intern);
    state.replayMessage(id, r.str(), messageState, segment, offset, length);
  } else if (type === RecordType.STATE) {
    state.replayState(id, readState(r, state.index.intern), segment, length);
  } else {
    state.replayDelete(id, segment);
  }
}

export async function recover(dir: string, state: StoreState, logger: Logger, dsync: boolean) {
  const started = Date.now();
  const report: RecoveryReport = { segments: 0, records: 0, droppedBytes: 0, ms: 0 };
  const segments: OpenSegment[] = [];
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  const unfinished = await finishRemovals(dir);
  if (unfinished > 0) logger.info({ files: unfinished }, 'file store: finished removing segments a stop interrupted');
  for (const id of await listSegmentIds(dir)) {
    const segment = await openSegment(dir, id, dsync);
    segments.push(segment);
    state.ledger.add(id, segment.size);
    await replaySegment(segment, state, logger, report, chunk);
    state.ledger.get(id)!.size = segment.size;
    report.segments++;
  }
  state.finishReplay();
  report.ms = Date.now() - started;
  logger.info(report, `file store: recovered ${state.index.size} messages from ${report.segments} segments`);
  return { segments, report };
}
