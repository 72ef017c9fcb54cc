// The ids answered 201 for a caller's Kiteq-Message-Id, kept on disk next to a file:// store
// (doc/http-gateway.md "Idempotency"), so that after a restart a retry of a message that was
// delivered and deleted before it is still answered with its id and not stored again. One line
// per id, `<id> <groupId, URI-encoded> <epoch ms>`, written (not fsynced: it survives the process being killed,
// not the machine losing power) before the 201 goes out. Rewritten at start and when it grows
// past twice the ids it holds, keeping only those within the window.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const JOURNAL_FILE = 'gateway-ids.log';

export interface JournalEntry {
  id: string;
  groupId: string;
  atMs: number;
}

const LINE = /^([0-9a-f]{32}) (\S+) (\d+)$/;

const lineOf = (e: JournalEntry): string => `${e.id} ${encodeURIComponent(e.groupId)} ${e.atMs}\n`;

export class IdJournal {
  private fd: number;
  private lines = 0;

  /** Opens (and compacts) `dir`/gateway-ids.log; `restore` gets each entry still within the window. */
  constructor(
    private readonly dir: string,
    windowMs: number,
    nowMs: number,
    restore: (entry: JournalEntry) => void,
  ) {
    const path = join(dir, JOURNAL_FILE);
    const kept: JournalEntry[] = [];
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const match = LINE.exec(line); // a torn last line (killed mid-write) does not match
        if (match && nowMs - Number(match[3]) <= windowMs)
          kept.push({ id: match[1], groupId: decodeURIComponent(match[2]), atMs: Number(match[3]) });
      }
    }
    for (const entry of kept) restore(entry);
    this.fd = this.rewrite(kept);
  }

  /** Appends an entry; returns when the bytes are in the file (the kernel's page cache). */
  append(entry: JournalEntry, live: () => Iterable<JournalEntry>, maxLines: number): void {
    writeSync(this.fd, lineOf(entry));
    if (++this.lines > maxLines) {
      closeSync(this.fd);
      this.fd = this.rewrite([...live()]);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private rewrite(entries: readonly JournalEntry[]): number {
    const path = join(this.dir, JOURNAL_FILE);
    const temp = `${path}.tmp`;
    const fd = openSync(temp, 'w');
    writeSync(fd, entries.map(lineOf).join(''));
    closeSync(fd);
    renameSync(temp, path);
    this.lines = entries.length;
    return openSync(path, 'a');
  }
}
