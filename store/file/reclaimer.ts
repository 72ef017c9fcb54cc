// Reclaim (doc/architecture.md §8): delete segments nothing needs, compact mostly finished ones. One loop at a
// time, kicked after each batch; a segment file is unlinked (and the directory fsynced) before the
// segments it kept alive are released, so a crash in between can never resurrect a finished message.
import type { Logger } from 'pino';
import type { SegmentLedger } from './segment-ledger';

const RETRY_COMPACTION_MS = 5000;

export interface ReclaimDeps {
  ledger: SegmentLedger;
  activeSegment(): number;
  compactBelow: number;
  /** close and unlink the file, fsync the directory */
  removeFile(id: number): Promise<void>;
  compact(id: number): Promise<void>;
  logger: Logger;
}

export class Reclaimer {
  private running: Promise<void> | undefined;
  private again = false;
  private looping = false;
  private stopped = false;
  /** when each segment was last compacted: one still sparse right after (a failed copy) waits a while */
  private readonly tried = new Map<number, number>();

  constructor(private readonly deps: ReclaimDeps) {}

  kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    this.running = this.run().catch((error) => {
      this.looping = false;
      this.deps.logger.error({ err: error }, 'file store: reclaim failed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const { ledger, logger } = this.deps;
    for (;;) {
      this.again = false;
      for (;;) {
        if (this.stopped) {
          this.looping = false;
          return;
        }
        const id = ledger.deletable(this.deps.activeSegment())[0];
        if (id === undefined) break;
        try {
          await this.deps.removeFile(id);
        } catch (error) {
          logger.error({ err: error, segment: id }, 'file store: could not delete a finished segment');
          this.looping = false;
          return;
        }
        ledger.remove(id);
        this.tried.delete(id);
      }
      const sparse = ledger
        .sparse(this.deps.activeSegment(), this.deps.compactBelow)
        .filter((id) => Date.now() - (this.tried.get(id) ?? 0) > RETRY_COMPACTION_MS);
      if (sparse.length > 0 && !this.stopped) {
        this.tried.set(sparse[0]!, Date.now());
        await this.deps.compact(sparse[0]!).catch((error) => {
          logger.error({ err: error, segment: sparse[0] }, 'file store: compaction failed');
        });
        this.again = true;
      }
      if (!this.again || this.stopped) {
        this.looping = false; // synchronously with the last check: a later kick() starts a new run
        return;
      }
    }
  }
}
