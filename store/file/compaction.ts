// Compaction (doc/architecture.md §8, §12 "one live message pins a 128 MB segment"): the live messages of a
// mostly finished segment are written forward into the active segment with their current state,
// and messages whose latest STATE record sits there get a fresh one, so nothing needs the old
// segment any more and reclaim can delete it.
import type { Logger } from 'pino';
import { SlotFlag } from './message-index';
import { type CopyOp, type StateOp, type StoreOp, waiter } from './ops';
import { checkFrame, immutableOf } from './record-codec';
import { type OpenSegment, readFully } from './segment-files';
import type { StoreState } from './store-state';

/** bodies read and copied at once: one range's copies are written before the next range is read */
const READ_RANGE_BYTES = 1024 * 1024;
const OPS_PER_CALL = 2000;

export interface CompactionDeps {
  state: StoreState;
  segment(id: number): OpenSegment | undefined;
  submit(ops: StoreOp[]): void;
  logger: Logger;
}

function opPromise<T extends StoreOp>(make: (resolve: (v: boolean) => void, reject: (e: Error) => void) => T) {
  let op!: T;
  const done = new Promise<boolean>((resolve, reject) => {
    op = make(resolve, reject);
  });
  return { op, done };
}

/** Slots whose MESSAGE record is in `segmentId` (by offset), and those whose latest STATE record is. */
function residents(state: StoreState, segmentId: number): { messages: number[]; states: number[] } {
  const index = state.index;
  const messages: number[] = [];
  const states: number[] = [];
  for (let slot = 0; slot < index.slotCount; slot++) {
    const flags = index.flags[slot]!;
    if (!(flags & SlotFlag.USED) || flags & (SlotFlag.PENDING | SlotFlag.DELETING)) continue;
    if (index.seg[slot] === segmentId) messages.push(slot);
    else if (index.stateSeg[slot] === segmentId) states.push(slot);
  }
  messages.sort((a, b) => index.offset[a]! - index.offset[b]!);
  return { messages, states };
}

export async function compactSegment(deps: CompactionDeps, segmentId: number): Promise<void> {
  const { state, logger } = deps;
  const index = state.index;
  const file = deps.segment(segmentId);
  if (!file) return;
  const { messages, states } = residents(state, segmentId);
  const ops: StoreOp[] = [];
  const done: Promise<boolean>[] = [];
  for (const slot of states) {
    const made = opPromise<StateOp>((resolve, reject) => ({
      kind: 'state',
      id: index.idOf(slot),
      change: { change: 'restate', fromSegment: segmentId },
      previous: undefined,
      resolve,
      reject,
      ...waiter(),
    }));
    ops.push(made.op);
    done.push(made.done);
  }
  // snapshot locations first: slots may be finished and reused while we read
  const ids = messages.map((slot) => index.idOf(slot));
  const offsets = messages.map((slot) => index.offset[slot]!);
  const lengths = messages.map((slot) => index.length[slot]!);
  for (let i = 0; i < ops.length; i += OPS_PER_CALL) deps.submit(ops.slice(i, i + OPS_PER_CALL));
  // large sequential reads: consecutive records (by offset) are read as one range; a range's copies
  // are written before the next is read, so a segment's live bodies are never all in memory at once
  // (doc/file-store.md "Reclaim and compaction")
  for (let i = 0; i < messages.length;) {
    const start = offsets[i]!;
    let j = i + 1;
    while (j < messages.length && offsets[j]! + lengths[j]! - start <= READ_RANGE_BYTES) j++;
    const range = Buffer.allocUnsafe(offsets[j - 1]! + lengths[j - 1]! - start);
    await readFully(file.file, range, start);
    const copies: StoreOp[] = [];
    const copied: Promise<boolean>[] = [];
    for (; i < j; i++) {
      const at = offsets[i]! - start;
      const record = range.subarray(at, at + lengths[i]!);
      if (checkFrame(record, 0, record.length) !== 'ok') {
        logger.error({ segment: segmentId, offset: offsets[i] }, 'file store: unreadable record kept in place');
        continue;
      }
      const made = opPromise<CopyOp>((resolve, reject) => ({
        kind: 'copy',
        id: ids[i]!,
        fromSegment: segmentId,
        fromOffset: offsets[i]!,
        immutable: Buffer.from(immutableOf(record)),
        resolve,
        reject,
        ...waiter(),
      }));
      copies.push(made.op);
      copied.push(made.done);
    }
    if (copies.length > 0) deps.submit(copies);
    done.push(...copied);
    await Promise.allSettled(copied);
  }
  const results = await Promise.allSettled(done);
  const failed = results.filter((r) => r.status === 'rejected').length;
  logger.debug(
    { segment: segmentId, moved: messages.length, restated: states.length, failed },
    'file store: compacted',
  );
}
