// Segment files on disk (design §8): <dir>/seg-<10-digit id>.log, append-only, ids ascending in
// write order, so replay in id order then offset order is the order things happened.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

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

/** A new file must survive power loss too: fsync the directory entry (design §8 durability). */
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
 * syscall and one thread-pool trip instead of write() + fdatasync() (measured ~2x faster per batch).
 */
function flags(dsync: boolean, create: boolean): number {
  return constants.O_RDWR | (create ? constants.O_CREAT | constants.O_EXCL : 0) | (dsync ? constants.O_DSYNC : 0);
}

export interface OpenSegment {
  id: number;
  file: fs.FileHandle;
  /** bytes known good (written, and for batch/always fsynced) */
  size: number;
}

export async function createSegment(dir: string, id: number, dsync: boolean): Promise<OpenSegment> {
  const file = await fs.open(segmentPath(dir, id), flags(dsync, true), 0o644);
  try {
    await syncDirectory(dir);
  } catch (error) {
    await file.close();
    throw error;
  }
  return { id, file, size: 0 };
}

export async function openSegment(dir: string, id: number, dsync: boolean): Promise<OpenSegment> {
  const file = await fs.open(segmentPath(dir, id), flags(dsync, false));
  const { size } = await file.stat();
  return { id, file, size };
}

export async function removeSegment(dir: string, segment: OpenSegment): Promise<void> {
  await segment.file.close();
  await fs.unlink(segmentPath(dir, segment.id));
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

export async function readFully(file: fs.FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await file.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
