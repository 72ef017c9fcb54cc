// Emergency space for a full disk (doc/file-store.md "Disk full"). Finishing a message costs a
// write too (a STATE or DELETE record), so a disk filled by saves could never be emptied by
// deliveries: reclaim would wait on records that cannot be written. <dir>/RESERVE holds
// `bytes` of zeros; when a write fails for lack of space it is deleted and the write retried, and
// from then on new messages are refused while finishing records still go through. Once the disk
// has twice the reserve free again (finished segments deleted, or an operator freed space) the
// reserve is written back and saves are accepted again.
import { promises as fs } from 'node:fs';
import path from 'node:path';

const CHUNK = 1024 * 1024;

export function isNoSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export class DiskReserve {
  private readonly file: string;
  /** the reserve file is on disk at its full size */
  held = false;

  constructor(
    private readonly dir: string,
    readonly bytes: number,
  ) {
    this.file = path.join(dir, 'RESERVE');
  }

  /** Writes the reserve (kept if already whole). False when the disk has no room for it. */
  async acquire(): Promise<boolean> {
    if (this.bytes === 0 || this.held) return true;
    const existing = await fs.stat(this.file).catch(() => undefined);
    if (existing?.size === this.bytes) return (this.held = true);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(this.file, 'w');
      const zeros = Buffer.alloc(Math.min(CHUNK, this.bytes));
      // Real blocks, not a sparse file: only written bytes are space we can give back later.
      for (let at = 0; at < this.bytes; at += zeros.length) {
        await handle.write(zeros, 0, Math.min(zeros.length, this.bytes - at), at);
      }
      await handle.datasync();
      await handle.close();
      return (this.held = true);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await fs.rm(this.file, { force: true });
      if (isNoSpace(error)) return false;
      throw error;
    }
  }

  /** Deletes the reserve; true if there was one to give back. */
  async release(): Promise<boolean> {
    if (!this.held) return false;
    this.held = false;
    await fs.rm(this.file, { force: true });
    return true;
  }

  /** Bytes available to us on the store's filesystem. */
  async freeBytes(): Promise<number> {
    const stats = await fs.statfs(this.dir);
    return stats.bavail * stats.bsize;
  }
}
