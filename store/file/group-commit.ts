// Group commit (doc/architecture.md §8): every call queued while the previous batch was being written
// goes out in the next batch, one durable write() for all of them (O_DSYNC: the fsync is part of
// the write, see segment-files.ts), so many producers share each fsync. fsync=always takes one call
// (a save, or a whole saveBatch) per batch; fsync=interval resolves after write() and fsyncs on a timer.
// A call may be lazy (deletes: a message every group acked, or a rollback): it starts no write of
// its own but goes out with the next batch another call starts, or after LINGER_MS. Losing one to a
// crash costs a redelivery, never an acked message, and no save waits behind a write that holds
// only deletes (doc/file-store.md).
// A write that fails for lack of space is retried once after the store frees its reserve
// (disk-reserve.ts). A failed write/fsync undoes the batch in memory, truncates the segment back to its last good size
// and rejects the batch's calls; acked data before it is untouched and the next batch may succeed.
import type { StoreError } from '../errors';
import { isNoSpace } from './disk-reserve';
import { extendAhead, preallocChunkBytes, settle, waitBeforeWrite } from './preallocate';
import { RecordWriter } from './record-codec';
import { type OpenSegment, writevFully } from './segment-files';
import type { FsyncPolicy } from './uri';

/** Stop adding calls to a batch past this many bytes (one call is never split). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** A lazy call waits at most this long for a batch to ride with. */
export const LINGER_MS = 5;

export interface BatchHooks<Op> {
  /** the segment to append to, rotating first if the current one is full */
  segmentForNextBatch(): Promise<OpenSegment>;
  /** Applies `op` to memory and appends its record, if it has one, to `out` (at `offset` of `segment`). */
  form(op: Op, segment: number, offset: number, out: RecordWriter): void;
  /** the batch is durable (written, for fsync=interval): in order */
  complete(op: Op): void;
  /** the batch failed: in reverse order */
  undo(op: Op, error: StoreError): void;
  toStoreError(error: unknown, doing: string): StoreError;
  afterBatch(segment: OpenSegment): void;
  /** A write failed for lack of space: free emergency space; true if the write is worth one retry. */
  onNoSpace(): Promise<boolean>;
}

export interface GroupCommitStats {
  batches: number;
  /** ops written per batch: sum and max */
  batchedOps: number;
  maxBatchOps: number;
  fsyncs: number;
  /** time spent in write() (durable writes for fsync=batch/always) */
  writeMs: number;
  failedBatches: number;
}

interface WrittenBatch<Op> {
  ops: Op[];
  segment: OpenSegment;
}

export class GroupCommit<Op> {
  private queue: Op[][] = [];
  /** the batch being formed: reused once its write has landed (one write in flight at a time) */
  private readonly out = new RecordWriter();
  /** parallel to queue: the call is lazy */
  private lazy: boolean[] = [];
  /** calls in the queue that are not lazy */
  private urgent = 0;
  /** lazy calls may go out alone: LINGER_MS passed, or idle() wants everything written */
  private lingerDue = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** cleared synchronously when run() ends, so a call submitted from a completion starts a new run */
  private looping = false;
  private intervalTimer: NodeJS.Timeout | undefined;
  private dirty: OpenSegment | undefined;
  /** the last batch written (durable), not yet completed: see drain() */
  private written: WrittenBatch<Op> | null = null;
  readonly stats: GroupCommitStats = {
    batches: 0,
    batchedOps: 0,
    maxBatchOps: 0,
    fsyncs: 0,
    writeMs: 0,
    failedBatches: 0,
  };
  /** zeros kept ahead of the records (preallocate.ts); 0 for fsync=interval, whose writes are not durable one by one */
  private readonly preallocBytes: number;

  constructor(
    private readonly policy: FsyncPolicy,
    private readonly segmentBytes: number,
    private readonly hooks: BatchHooks<Op>,
    intervalMs: number,
    private readonly onIntervalError: (error: unknown) => void,
  ) {
    this.preallocBytes = policy === 'interval' ? 0 : preallocChunkBytes(segmentBytes);
    if (policy === 'interval') {
      this.intervalTimer = setInterval(() => void this.syncDirty().catch(onIntervalError), intervalMs);
      this.intervalTimer.unref();
    }
  }

  /** queue one call's ops; they go out together in one batch (lazy: see the top of this file) */
  submit(ops: Op[], lazy = false): void {
    this.queue.push(ops);
    this.lazy.push(lazy);
    if (!lazy) this.urgent++;
    if (this.looping) return;
    if (this.ready()) this.start();
    else this.armLinger();
  }

  /** resolves once everything queued so far is written (and synced, except fsync=interval) */
  async idle(): Promise<void> {
    while (this.looping || this.queue.length > 0) {
      if (!this.looping) {
        this.lingerDue = true;
        this.start();
      }
      await this.running;
    }
  }

  private start(): void {
    this.looping = true;
    this.running = this.run();
  }

  /** a batch is worth writing: a call waits that is not lazy, or the lazy ones waited long enough */
  private ready(): boolean {
    return this.queue.length > 0 && (this.urgent > 0 || this.lingerDue);
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.lingerDue = true;
      if (!this.looping && this.queue.length > 0) this.start();
    }, LINGER_MS); // not unref'd: a caller may be awaiting the delete with nothing else pending
  }

  /** every lazy call has gone out: the next one lingers afresh */
  private lingerDone(): void {
    this.lingerDue = false;
    if (this.lingerTimer === undefined) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /** takes the oldest queued call */
  private takeCall(): Op[] {
    if (!this.lazy.shift()) this.urgent--;
    return this.queue.shift()!;
  }

  /** takes every queued call, for failing them */
  private takeAll(): Op[] {
    this.lazy.length = 0;
    this.urgent = 0;
    return this.queue.splice(0).flat();
  }

  /** for fsync=interval, and before a segment is closed for writing */
  async syncDirty(): Promise<void> {
    const segment = this.dirty;
    if (!segment) return;
    this.dirty = undefined;
    await segment.file.datasync();
    this.stats.fsyncs++;
  }

  async close(): Promise<void> {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    await this.idle();
    await this.syncDirty();
  }

  private async run(): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      // a bug, not I/O (I/O errors reject the batch): fail what waits rather than hang it
      this.looping = false;
      this.completeWritten(); // durable already
      const storeError = this.hooks.toStoreError(error, 'running the write loop');
      for (const op of this.takeAll()) this.hooks.undo(op, storeError);
    }
  }

  /**
   * One write in flight at a time. A batch's calls are completed (their promises resolved) only once
   * the next batch's write has started: the continuations they wake (store-acks, deliveries) then
   * run while the disk works, instead of between two writes with the disk idle. The next batch is
   * formed before the previous one completes; that is safe because a call queued while a batch was
   * being written never depends on that batch's outcome (it was submitted before any of its
   * promises resolved), and the reclaimer is kicked only for completed, durable batches.
   */
  private async drain(): Promise<void> {
    for (;;) {
      if (!this.ready()) {
        if (this.written !== null) {
          this.completeWritten(); // may queue more calls (a completion hook, the reclaimer)
          continue;
        }
        this.looping = false; // synchronously with the last check: a later submit() starts a new run
        if (this.queue.length > 0) this.armLinger(); // only lazy calls wait
        return;
      }
      let segment: OpenSegment;
      try {
        segment = await this.hooks.segmentForNextBatch();
      } catch (error) {
        const storeError = this.hooks.toStoreError(error, 'opening a new segment');
        for (const op of this.takeAll()) this.hooks.undo(op, storeError);
        continue;
      }
      const ops: Op[] = [];
      const out = this.out;
      out.reset(); // the last batch's write has landed (or failed): its bytes are no longer needed
      while (this.queue.length > 0 && segment.size + out.length < this.segmentBytes && out.length < MAX_BATCH_BYTES) {
        for (const op of this.takeCall()) {
          ops.push(op);
          this.hooks.form(op, segment.id, segment.size + out.length, out);
        }
        if (this.policy === 'always') break;
      }
      if (this.queue.length === 0) this.lingerDone();
      const writing = out.length > 0 ? this.write(segment, out.formed(), ops) : null;
      this.completeWritten();
      if (writing !== null && !(await writing)) continue; // failed: its calls were undone
      this.written = { ops, segment };
    }
  }

  private completeWritten(): void {
    if (this.written === null) return;
    const { ops, segment } = this.written;
    this.written = null;
    for (const op of ops) this.hooks.complete(op);
    this.stats.batches++;
    this.stats.batchedOps += ops.length;
    if (ops.length > this.stats.maxBatchOps) this.stats.maxBatchOps = ops.length;
    this.hooks.afterBatch(segment);
  }

  private async write(segment: OpenSegment, pieces: Buffer[], ops: Op[]): Promise<boolean> {
    const start = segment.size;
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    for (let attempt = 0; ; attempt++) {
      try {
        await waitBeforeWrite(segment, start + bytes);
        const began = performance.now();
        await writevFully(segment.file, pieces, start);
        this.stats.writeMs += performance.now() - began;
        if (this.policy === 'interval') this.dirty = segment;
        else {
          this.stats.fsyncs++; // the segment is open with O_DSYNC: write() returned once it was durable
        }
        segment.size = start + bytes;
        if (segment.allocated < segment.size) segment.allocated = segment.size;
        if (this.preallocBytes > 0) extendAhead(segment, this.preallocBytes);
        return true;
      } catch (error) {
        // cut what part of the batch reached the file, so no un-acked record survives a restart
        await settle(segment);
        await segment.file.truncate(start).catch(() => undefined);
        segment.allocated = start;
        if (attempt === 0 && isNoSpace(error) && (await this.hooks.onNoSpace())) continue;
        this.stats.failedBatches++;
        const storeError = this.hooks.toStoreError(error, `writing segment ${segment.id}`);
        for (let i = ops.length - 1; i >= 0; i--) this.hooks.undo(ops[i]!, storeError);
        return false;
      }
    }
  }
}
