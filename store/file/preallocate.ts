// Zeroed space ahead of the append position (doc/file-store.md, "Zeros written ahead"). An O_DSYNC write
// that grows the file must also make the new size durable: on ext4 without a journal that is a second
// device write per batch. A write into space that is already allocated and durable syncs data
// only. So each segment keeps up to one chunk of zeros past its last record, written in the
// background while the appends land in the chunk before it.
//
// Correctness never depends on the zeros: the kernel syncs whatever metadata a write needs. The
// only rule is that a record write and the zero write never overlap (waitBeforeWrite).
import type { OpenSegment } from './segment-files';

/** bytes of zeros kept ahead: a 16th of a segment, 4 KiB to 1 MiB (tests use small segments) */
export function preallocChunkBytes(segmentBytes: number): number {
  return Math.min(1024 * 1024, Math.max(4096, Math.floor(segmentBytes / 16 / 4096) * 4096));
}

let zeros = Buffer.alloc(0);
function zeroBuffer(bytes: number): Buffer {
  if (zeros.length < bytes) zeros = Buffer.alloc(bytes);
  return zeros.subarray(0, bytes);
}

/**
 * Starts writing the next chunk of zeros when less than half a chunk is left, unless one is being
 * written or the segment gave up (an error, e.g. the disk filling: records then grow the file, as
 * without preallocation, and that write reports the error).
 */
export function extendAhead(segment: OpenSegment, chunkBytes: number): void {
  if (segment.extending !== undefined || segment.preallocOff) return;
  if (segment.allocated - segment.size >= chunkBytes / 2) return;
  const from = Math.max(segment.allocated, segment.size);
  segment.extending = segment.file
    .write(zeroBuffer(chunkBytes), 0, chunkBytes, from)
    .then(
      ({ bytesWritten }) => {
        if (bytesWritten === chunkBytes) segment.allocated = Math.max(segment.allocated, from + chunkBytes);
        else segment.preallocOff = true;
      },
      () => {
        segment.preallocOff = true;
      },
    )
    .finally(() => {
      segment.extending = undefined;
    });
}

/** A record write that reaches past the zeroed space waits for the zeros being written there. */
export async function waitBeforeWrite(segment: OpenSegment, end: number): Promise<void> {
  if (segment.extending !== undefined && end > segment.allocated) await segment.extending;
}

/** Before a truncate or close: no zero write may land after it. */
export async function settle(segment: OpenSegment): Promise<void> {
  if (segment.extending !== undefined) await segment.extending;
}

/** On a clean stop the zeros are cut, so a stopped store's files end at their last record. */
export async function trimZeros(segment: OpenSegment): Promise<void> {
  await settle(segment);
  if (segment.allocated <= segment.size) return;
  await segment.file.truncate(segment.size);
  segment.allocated = segment.size;
}
