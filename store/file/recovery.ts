// Recovery on start (doc/file-store.md "Recovery"): replay every segment in order with large
// sequential reads and verify each record's CRC. Damage costs only the records it touches: replay
// goes on after a damaged record (skipped by its length, or found again by scanning for the next
// intact record); only a torn tail of the last segment, with no intact record after it, is cut.
// Damaged bytes are copied to <dir>/damaged/ before anything is cut.
import type { Logger } from 'pino';
import { idAt, keepDamagedBytes, nextIntactRecord, nonZeroEnd } from './damage';
import { NOT_ASCII } from './id-table';
import { loadSnapshot } from './index-snapshot';
import { checkFrame, RECORD_HEADER_BYTES, Reader, readState, RecordType } from './record-codec';
import { finishRemovals, listSegmentIds, type OpenSegment, openSegment, readFully } from './segment-files';
import type { StoreState } from './store-state';

const CHUNK_BYTES = 8 * 1024 * 1024;

export interface RecoveryReport {
  segments: number;
  records: number;
  /** bytes cut from the end of the last segment (a torn tail) */
  droppedBytes: number;
  /** damaged byte ranges found, each copied to <dir>/damaged/ */
  damagedRanges: number;
  damagedBytes: number;
  /** the index came from the last clean stop's snapshot: no record was replayed */
  snapshot: boolean;
  ms: number;
}

interface Replay {
  dir: string;
  state: StoreState;
  logger: Logger;
  report: RecoveryReport;
  /** one 8 MiB buffer for every segment: recovery's memory stays flat */
  chunk: Buffer;
  /** the chunk, or a bigger buffer while a segment holds a record larger than it */
  buf: Buffer;
  /** where the last record replayed starts, for the log line of a damaged range (lastIdOf) */
  last: { segment: OpenSegment; offset: number } | undefined;
}

type Damage = 'torn' | 'corrupt';

/** Replays the consecutive intact records from `from`; returns where they stop and why. */
async function replayRun(
  segment: OpenSegment,
  from: number,
  size: number,
  r: Replay,
): Promise<{ end: number; damage: Damage }> {
  let filePos = from;
  while (filePos < size) {
    const buf = r.buf;
    let lastPos = -1;
    const got = Math.min(await readFully(segment.file, buf, filePos), size - filePos);
    if (got === 0) break;
    const atEnd = filePos + got >= size;
    let pos = 0;
    let damage: Damage | undefined;
    while (pos < got) {
      const verdict = checkFrame(buf, pos, got);
      if (verdict === 'torn' && !atEnd) {
        // the record runs past this chunk: read again from its start (a bigger buffer if it must)
        const need = got - pos >= 4 ? RECORD_HEADER_BYTES + buf.readUInt32LE(pos) : RECORD_HEADER_BYTES;
        if (filePos + pos + need > size) damage = 'torn';
        else if (need > buf.length) r.buf = Buffer.allocUnsafe(need);
        break;
      }
      if (verdict !== 'ok') {
        damage = verdict;
        break;
      }
      applyRecord(buf, pos, segment.id, filePos + pos, r.state);
      r.report.records++;
      lastPos = pos;
      pos += RECORD_HEADER_BYTES + buf.readUInt32LE(pos);
    }
    if (lastPos >= 0) r.last = { segment, offset: filePos + lastPos };
    filePos += pos;
    if (damage) return { end: filePos, damage };
  }
  return { end: filePos, damage: 'torn' };
}

/**
 * Replays one segment into the state. Zeros after the last record are the end (written ahead,
 * preallocate.ts). Damage followed by an intact record is skipped; damage with nothing intact after
 * it is a torn tail: cut in the last segment (a crash mid-write), kept in a closed one (never cut).
 */
async function replaySegment(segment: OpenSegment, last: boolean, r: Replay): Promise<void> {
  r.buf = r.chunk;
  const fileSize = segment.size;
  let from = 0;
  for (;;) {
    const { end, damage } = await replayRun(segment, from, fileSize, r);
    segment.size = end;
    if (end >= fileSize || (await zerosFrom(segment, end, fileSize, r.chunk))) return;
    const next = await nextIntactRecord(segment, end, fileSize, r.chunk);
    if (next === undefined) return damagedTail(segment, end, fileSize, damage, last, r);
    const evidence = await keep(segment, end, next.offset, r);
    const length = next.offset - end;
    const after = await idAt(segment, next.offset);
    const before = await lastIdOf(r);
    r.report.damagedRanges++;
    r.report.damagedBytes += length;
    r.logger.warn(
      { segment: segment.id, offset: end, length, reason: damage, how: next.how, before, after, evidence },
      `file store: segment ${segment.id} has ${length} damaged bytes at offset ${end} (${damage} record, ${next.how}); ` +
        `replay goes on at offset ${next.offset}; records around it: ${before ?? '(none)'} … ${after}`,
    );
    from = next.offset;
  }
}

async function damagedTail(
  segment: OpenSegment,
  at: number,
  fileSize: number,
  damage: Damage,
  last: boolean,
  r: Replay,
): Promise<void> {
  const end = await nonZeroEnd(segment, at, fileSize, r.chunk);
  const evidence = await keep(segment, at, end, r);
  const before = await lastIdOf(r);
  r.report.damagedRanges++;
  r.report.damagedBytes += end - at;
  const fields = { segment: segment.id, offset: at, length: end - at, reason: damage, before, evidence };
  if (!last) {
    segment.allocated = at; // nothing past the records of a closed segment is ever cut (trimZeros)
    r.logger.warn(
      fields,
      `file store: closed segment ${segment.id} has a ${damage} record at offset ${at} and nothing intact after it; keeping its ${end - at} bytes in place, last record ${before ?? '(none)'}`,
    );
    return;
  }
  const dropped = fileSize - at;
  r.report.droppedBytes += dropped;
  r.logger.warn(
    { ...fields, droppedBytes: dropped },
    `file store: segment ${segment.id} has a ${damage} record at offset ${at}; truncating ${dropped} bytes after the last intact record (${before ?? 'none'})`,
  );
  await segment.file.truncate(at);
  await segment.file.sync();
  segment.allocated = at;
}

/** the damaged bytes are copied before anything is cut; a failed copy is logged and recovery goes on */
async function keep(segment: OpenSegment, from: number, to: number, r: Replay): Promise<string | undefined> {
  try {
    return await keepDamagedBytes(r.dir, segment, from, to, r.chunk);
  } catch (error) {
    r.logger.error(
      { err: error, segment: segment.id, offset: from, length: to - from },
      'file store: could not copy damaged bytes to damaged/',
    );
    return undefined;
  }
}

/** true if the segment holds only zero bytes from `from` to its end */
async function zerosFrom(segment: OpenSegment, from: number, fileSize: number, buf: Buffer): Promise<boolean> {
  for (let pos = from; pos < fileSize;) {
    const got = Math.min(await readFully(segment.file, buf, pos), fileSize - pos);
    if (got === 0) break;
    for (let i = 0; i < got; i++) if (buf[i] !== 0) return false;
    pos += got;
  }
  return true;
}

/**
 * Applies one intact record. The id is looked up from its bytes (id-table.ts): a STATE or DELETE
 * record, half the records of a store of parked messages, makes no string.
 */
function applyRecord(buf: Buffer, pos: number, segment: number, offset: number, state: StoreState): void {
  const length = RECORD_HEADER_BYTES + buf.readUInt32LE(pos);
  const type = buf[pos + 8];
  const idStart = pos + RECORD_HEADER_BYTES + 4;
  const idEnd = idStart + buf.readUInt32LE(pos + RECORD_HEADER_BYTES);
  const index = state.index;
  let slot = index.slotOfBytes(buf, idStart, idEnd);
  let id: string | undefined;
  if (slot === NOT_ASCII) {
    id = buf.toString('utf8', idStart, idEnd);
    slot = index.slotOf(id);
  }
  const r = new Reader(buf, idEnd);
  if (type === RecordType.MESSAGE) {
    const messageState = readState(r, index.intern);
    // ASCII (checked by the lookup) decodes as latin1, the cheaper decoder
    if (slot !== undefined) id = index.idOf(slot);
    else id ??= buf.toString('latin1', idStart, idEnd);
    state.replayMessage(slot, id, r.str(), messageState, segment, offset, length);
  } else if (type === RecordType.STATE) {
    if (slot !== undefined) state.replayState(slot, readState(r, index.intern), segment, length);
  } else if (slot !== undefined) {
    state.replayDelete(slot, segment);
  }
}

/** the id of the last record replayed, for the log lines of a damaged range */
async function lastIdOf(r: Replay): Promise<string | undefined> {
  if (!r.last) return undefined;
  return await idAt(r.last.segment, r.last.offset).catch(() => undefined);
}

export async function recover(dir: string, state: StoreState, logger: Logger, dsync: boolean) {
  const started = Date.now();
  const report: RecoveryReport = {
    segments: 0,
    records: 0,
    droppedBytes: 0,
    damagedRanges: 0,
    damagedBytes: 0,
    snapshot: false,
    ms: 0,
  };
  const segments: OpenSegment[] = [];
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  const replay: Replay = { dir, state, logger, report, chunk, buf: chunk, last: undefined };
  const unfinished = await finishRemovals(dir);
  if (unfinished > 0) logger.info({ files: unfinished }, 'file store: finished removing segments a stop interrupted');
  const ids = await listSegmentIds(dir);
  for (const id of ids) segments.push(await openSegment(dir, id, dsync));
  // a clean stop's index, if nothing changed since (index-snapshot.ts): no record replayed
  report.snapshot = await loadSnapshot(dir, state, segments);
  if (report.snapshot) report.segments = segments.length;
  else {
    for (const [i, segment] of segments.entries()) {
      state.ledger.add(segment.id, segment.size);
      await replaySegment(segment, i === segments.length - 1, replay);
      state.ledger.get(segment.id)!.size = segment.size;
      report.segments++;
    }
    state.finishReplay();
  }
  report.ms = Date.now() - started;
  logger.info(
    report,
    `file store: recovered ${state.index.size} messages from ${report.segments} segments${report.snapshot ? ' (index snapshot of the last stop)' : ''}`,
  );
  if (report.damagedRanges > 0) {
    logger.warn(
      report,
      `file store: ${report.damagedRanges} damaged ranges (${report.damagedBytes} bytes) skipped; copies in ${dir}/damaged/`,
    );
  }
  return { segments, report };
}
