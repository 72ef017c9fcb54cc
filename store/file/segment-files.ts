// Segment files on disk (doc/architecture.md §8): <dir>/seg-<10-digit id>.log, append-only, ids ascending in
// write order, so replay in id order then offset order is the order things happened.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { settle } from './preallocate';

const NAME = /^seg-(\d{10})\.log$/;

export function segmentPath(dir: string, id: number): string {
  return path.join(dir, `seg-${String(id).padStart(10, '0')}.log`);
}

export async function listSegmentIds(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  const ids: number[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (match) ids.push(Number(match[1]));
  }
  return ids.sort((a, b) => a - b);
}

/** A new file must survive power loss too: fsync the directory entry (doc/architecture.md §8 durability). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsync=batch/always open segments with O_DSYNC: each write() returns once its data is on disk, one
 * syscall and one thread-pool trip instead of write() + fdatasync().
 */
function flags(dsync: boolean, create: boolean): number {
  return constants.O_RDWR | (create ? constants.O_CREAT | constants.O_EXCL : 0) | (dsync ? constants.O_DSYNC : 0);
}

export interface OpenSegment {
  id: number;
  file: fs.FileHandle;
  /** bytes known good (written, and for batch/always fsynced): the records end here */
  size: number;
  /** the file's length: past `size` it holds zeros written ahead (preallocate.ts) */
  allocated: number;
  /** the zeros being written ahead, if any */
  extending?: Promise<void>;
  /** writing zeros ahead failed once (e.g. no space): this segment grows record by record */
  preallocOff?: boolean;
}

/**
 * A new, empty segment whose name is durable. If the directory fsync fails the file is removed again;
 * an empty file of that name left anyway (the removal failed too) is taken over by the next attempt,
 * so one failed rotation never blocks every later one with EEXIST.
 */
export async function createSegment(
  dir: string,
  id: number,
  dsync: boolean,
  sync: (dir: string) => Promise<void> = syncDirectory,
): Promise<OpenSegment> {
  const name = segmentPath(dir, id);
  const file = await openNew(name, dsync);
  try {
    await sync(dir);
  } catch (error) {
    await file.close().catch(() => undefined);
    await fs.unlink(name).catch(() => undefined);
    throw error;
  }
  return { id, file, size: 0, allocated: 0 };
}

async function openNew(name: string, dsync: boolean): Promise<fs.FileHandle> {
  try {
    return await fs.open(name, flags(dsync, true), 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const file = await fs.open(name, flags(dsync, false));
    if ((await file.stat()).size === 0) return file; // left by a rotation that failed: nothing in it to lose
    await file.close();
    throw error;
  }
}

export async function openSegment(dir: string, id: number, dsync: boolean): Promise<OpenSegment> {
  const file = await fs.open(segmentPath(dir, id), flags(dsync, false));
  const { size } = await file.stat();
  return { id, file, size, allocated: size }; // recovery finds where the records end
}

/** a segment being removed: out of recovery's sight, its blocks freed step by step */
const REMOVING = /^seg-\d{10}\.log\.removing$/;
/** bytes freed per step when a segment is removed */
export const SHRINK_STEP_BYTES = 4 * 1024 * 1024;
/** between steps: the writes in flight get their journal commits in between */
const SHRINK_PAUSE_MS = 10;

/**
 * Removes a finished segment without stalling the writes. Unlinking 64 MiB at once stalls the next
 * O_DSYNC write for tens of ms: the journal commit that write forces frees (and, on a filesystem
 * mounted with `discard`, trims) every block of the file at once. So the file
 * is renamed out of recovery's sight (atomic; from then on it is removed as far as the store is
 * concerned), then cut 4 MiB at a time, then unlinked. A crash midway leaves a `.removing` file,
 * which the next start finishes removing (finishRemovals).
 */
export async function removeSegment(dir: string, segment: OpenSegment): Promise<void> {
  await settle(segment); // no zero write may land after the close
  await segment.file.close();
  const doomed = `${segmentPath(dir, segment.id)}.removing`;
  await fs.rename(segmentPath(dir, segment.id), doomed);
  await syncDirectory(dir);
  await shrinkAndUnlink(doomed);
}

async function shrinkAndUnlink(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    let { size } = await handle.stat();
    while (size > SHRINK_STEP_BYTES) {
      size -= SHRINK_STEP_BYTES;
      await handle.truncate(size);
      // pacing background work, not waiting for an event
      await new Promise((resolve) => setTimeout(resolve, SHRINK_PAUSE_MS));
    }
  } finally {
    await handle.close();
  }
  await fs.unlink(file);
}

/** Finishes removals a crash interrupted (see removeSegment); returns how many files it removed. */
export async function finishRemovals(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await fs.readdir(dir)) {
    if (!REMOVING.test(name)) continue;
    await shrinkAndUnlink(path.join(dir, name));
    removed++;
  }
  if (removed > 0) await syncDirectory(dir);
  return removed;
}

/** Writes all of `buf` at `position` (a short write is continued, an error thrown). */
export async function writeFully(file: fs.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await file.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** writeFully of several pieces one after another: one writev() (one durable write with O_DSYNC) unless it falls short. */
export async function writevFully(file: fs.FileHandle, pieces: Buffer[], position: number): Promise<void> {
  if (pieces.length === 1) return writeFully(file, pieces[0]!, position);
  let rest = pieces;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, at);
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    at += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i]!.length) skip -= rest[i++]!.length;
    rest = rest.slice(i);
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
  }
}

export async function readFully(file: fs.FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await file.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
