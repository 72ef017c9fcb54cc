// file:// — the embedded durable store (doc/architecture.md §8; decisions in doc/file-store.md). Calls become
// ops on one group-commit writer; memory holds a compact index; bodies are read back from the
// segments (or the body cache); reclaim deletes and compacts segments in the background.
import { promises as fs } from 'node:fs';
import pino, { type Logger } from 'pino';
import type {
  DeadLetter,
  DeadLetterQuery,
  DeliveryResult,
  DueCursor,
  DueQuery,
  GroupBacklog,
  GroupBacklogQuery,
  MessageStore,
  StoreOpenOptions,
  StoreDamageStats,
  StoredMessage,
  StoreWriteStats,
} from '../contract';
import { DuplicateMessageError, StoreError, StoreFullError, StoreUnavailableError } from '../errors';
import { BodyCache } from './body-cache';
import { compactSegment } from './compaction';
import { DiskReserve, isNoSpace } from './disk-reserve';
import type { DueList } from './due-list';
import { fileGroupBacklog, READ_BUDGET } from './group-backlog';
import { GroupCommit, type GroupCommitStats } from './group-commit';
import { dropSnapshot, writeSnapshot } from './index-snapshot';
import { acquireLock, releaseLock } from './lock-file';
import { OpEffects } from './op-effects';
import { DeleteCall, DeliveryChange, type StateChange, StateCall, type StoreOp } from './ops';
import { trimZeros } from './preallocate';
import { Reclaimer } from './reclaimer';
import { StateFlag } from './record-codec';
import { readStoredMessage } from './message-reader';
import { recover, type RecoveryReport } from './recovery';
import { createSegment, type OpenSegment, removeSegment, syncDirectory } from './segment-files';
import { scheduledSecondOf } from '../scheduled-count';
import { StoreState } from './store-state';
import type { FileStoreConfig } from './uri';

/** `logger` (StoreOpenOptions) gets recovery, damage, reclaim and I/O errors */
export type FileStoreOptions = StoreOpenOptions;

const nothing = (): void => undefined;

export class FileStore implements MessageStore {
  readonly kind = 'file';
  readonly durable = true;
  private readonly logger: Logger;
  private readonly state = new StoreState();
  private readonly cache: BodyCache;
  private readonly pendingSaves = new Set<string>();
  private readonly segments = new Map<number, OpenSegment>();
  private active: OpenSegment | undefined;
  private writer: GroupCommit<StoreOp> | undefined;
  private reclaimer: Reclaimer | undefined;
  private lockPath: string | undefined;
  private phase: 'new' | 'starting' | 'open' | 'stopped' = 'new';
  private readonly reserve: DiskReserve;
  /** the disk ran out of space: new messages are refused until the reserve is back (disk-reserve.ts) */
  private full = false;
  private fullTimer: NodeJS.Timeout | undefined;
  private leavingFull = false;
  recovery: RecoveryReport | undefined;

  constructor(
    readonly config: FileStoreConfig,
    options: FileStoreOptions,
  ) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.cache = new BodyCache(config.cacheBytes);
    this.reserve = new DiskReserve(config.dir, config.reserveBytes);
  }

  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`file store ${this.config.dir}: start() may be called once`);
    this.phase = 'starting';
    await fs.mkdir(this.config.dir, { recursive: true });
    this.lockPath = await acquireLock(this.config.dir);
    try {
      const { segments, report } = await recover(
        this.config.dir,
        this.state,
        this.logger,
        this.config.fsync !== 'interval',
      );
      this.recovery = report;
      for (const segment of segments) this.segments.set(segment.id, segment);
      this.active = segments[segments.length - 1] ?? (await this.newSegment(1));
      if (!(await this.reserve.acquire())) this.enterFull();
    } catch (error) {
      for (const segment of this.segments.values()) await segment.file.close().catch(() => undefined);
      await releaseLock(this.lockPath);
      throw error;
    }
    const effects = new OpEffects(this.state, this.cache, this.pendingSaves);
    this.writer = new GroupCommit<StoreOp>(
      this.config.fsync,
      this.config.segmentBytes,
      {
        segmentForNextBatch: () => this.segmentForNextBatch(),
        form: (op, segment, offset, out) => effects.form(op, segment, offset, out),
        complete: (op) => effects.complete(op),
        undo: (op, error) => effects.undo(op, error),
        toStoreError: (error, doing) => this.toStoreError(error, doing),
        afterBatch: (segment) => this.afterBatch(segment),
        onNoSpace: () => this.onNoSpace(),
      },
      this.config.intervalMs,
      (error) => this.logger.error({ err: error }, 'file store: interval fsync failed'),
    );
    this.reclaimer = new Reclaimer({
      ledger: this.state.ledger,
      activeSegment: () => this.active!.id,
      compactBelow: this.config.compactBelow,
      removeFile: (id) => this.removeSegmentFile(id),
      compact: (id) =>
        compactSegment(
          {
            state: this.state,
            segment: (s) => this.segments.get(s),
            submit: (ops) => this.writer!.submit(ops),
            logger: this.logger,
          },
          id,
        ),
      logger: this.logger,
    });
    this.phase = 'open';
    this.reclaimer.kick();
  }

  /** Flushes and fsyncs everything queued, closes the segments and releases the lock. */
  async stop(): Promise<void> {
    if (this.phase !== 'open') return;
    this.phase = 'stopped';
    clearInterval(this.fullTimer);
    await this.reclaimer!.stop();
    await this.writer!.close();
    for (const segment of this.segments.values()) {
      await trimZeros(segment).catch((error: unknown) =>
        this.logger.warn(
          { err: error, segment: segment.id },
          'file store: could not cut the zeros ahead of the last record',
        ),
      );
    }
    await this.writeIndexSnapshot();
    for (const segment of this.segments.values()) await segment.file.close().catch(() => undefined);
    this.segments.clear();
    await releaseLock(this.lockPath!);
  }

  /**
   * The next start loads the index from this instead of replaying every record (index-snapshot.ts).
   * Not after a start that found damage: the next one must find it again and report it.
   */
  private async writeIndexSnapshot(): Promise<void> {
    const segments = [...this.segments.values()].sort((a, b) => a.id - b.id);
    const damaged = (this.recovery?.damagedRanges ?? 0) > 0;
    if (damaged || this.state.index.size === 0 || segments.some((s) => s.allocated !== s.size)) return;
    const started = Date.now();
    try {
      const written = await writeSnapshot(this.config.dir, this.state, segments);
      this.logger.info(
        { ...written, ms: Date.now() - started },
        'file store: index snapshot written for the next start',
      );
    } catch (error) {
      await dropSnapshot(this.config.dir).catch(() => undefined);
      this.logger.warn(
        { err: error },
        'file store: could not write the index snapshot; the next start replays the segments',
      );
    }
  }

  writeStats(): StoreWriteStats {
    const { batches, batchedOps, writeMs, failedBatches } = this.writer?.stats ?? {
      batches: 0,
      batchedOps: 0,
      writeMs: 0,
      failedBatches: 0,
    };
    return { batches, batchedOps, writeMs, failedBatches };
  }

  damageStats(): StoreDamageStats {
    return { ranges: this.recovery?.damagedRanges ?? 0, bytes: this.recovery?.damagedBytes ?? 0 };
  }

  /** group commit figures, for benchmarks */
  stats(): GroupCommitStats & { messages: number; segments: number; bytes: number; liveBytes: number } {
    return { ...this.writer!.stats, messages: this.state.index.size, ...this.state.ledger.totals() };
  }

  save(message: StoredMessage): Promise<void> {
    const refusal = this.notOpen() ?? this.refusalOf(message);
    if (refusal) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => this.writer!.submit([this.saveOp(message, () => resolve(), reject)]));
  }

  async saveBatch(messages: StoredMessage[]): Promise<void> {
    this.assertOpen();
    const ops: StoreOp[] = [];
    const results: Promise<unknown>[] = [];
    for (const message of messages) {
      const refusal = this.refusalOf(message);
      if (refusal) {
        results.push(Promise.reject(refusal));
        continue;
      }
      results.push(new Promise<boolean>((resolve, reject) => ops.push(this.saveOp(message, resolve, reject))));
    }
    if (ops.length > 0) this.writer!.submit(ops);
    const failed = (await Promise.allSettled(results)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Why a save is refused before it is queued: a full disk, or a duplicate id. */
  private refusalOf(message: StoredMessage): StoreError | undefined {
    if (this.full) {
      return new StoreFullError(
        `file store ${this.config.dir}: disk full (ENOSPC): new messages are refused until finished messages or an operator free ${2 * this.config.reserveBytes} bytes`,
      );
    }
    const id = message.header.messageId;
    if (this.pendingSaves.has(id) || this.state.index.slotOf(id) !== undefined) return new DuplicateMessageError(id);
    return undefined;
  }

  private saveOp(message: StoredMessage, resolve: (value: boolean) => void, reject: (error: Error) => void): StoreOp {
    const id = message.header.messageId;
    const topic = message.header.topic;
    const state = {
      flags: message.header.commit ? StateFlag.COMMITTED : 0,
      deliverCount: message.deliverCount,
      checkCount: message.checkCount,
      nextDeliverTime: message.nextDeliverTime,
      succGroups: [...message.succGroups],
      failGroups: [...message.failGroups],
      deadTime: 0,
      deadReason: '',
      deliverAtSec: scheduledSecondOf(message.header),
    };
    const immutable = {
      header: { ...message.header },
      msgType: message.msgType,
      body: message.body,
      publishTime: message.publishTime,
      kiteServer: message.kiteServer,
    };
    this.pendingSaves.add(id);
    return {
      kind: 'save',
      id,
      topic,
      state,
      message: immutable,
      encodedHeader: message.encodedHeader,
      resolve,
      reject,
      segment: 0,
      offset: 0,
      length: 0,
      slot: -1,
      applied: false,
    };
  }

  get(messageId: string): Promise<StoredMessage | undefined> {
    return readStoredMessage(this.readDeps(), messageId);
  }

  async commit(messageId: string): Promise<StoredMessage | undefined> {
    return (await this.change(messageId, { change: 'commit' })) ? this.get(messageId) : undefined;
  }

  rollback(messageId: string): Promise<boolean> {
    return this.enqueueDelete(messageId);
  }

  async recordCheck(messageId: string, checkCount: number, nextDeliverTime: number): Promise<void> {
    await this.change(messageId, { change: 'check', checkCount, nextDeliverTime });
  }

  /** Not async: an async frame would keep the caller's `result` alive until the write (ops.ts). */
  recordDelivery(messageId: string, result: DeliveryResult): Promise<void> {
    return this.change(messageId, new DeliveryChange(result)).then(nothing);
  }

  async delete(messageId: string): Promise<void> {
    await this.enqueueDelete(messageId);
  }

  async deadLetter(messageId: string, reason: string): Promise<void> {
    await this.change(messageId, { change: 'dead', reason, deadTime: Math.floor(Date.now() / 1000) });
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const index = this.state.index;
    const ids: string[] = [];
    for (const slot of index.deadSlots()) {
      const id = index.idOf(slot);
      if (!index.isVisible(slot) || (query.afterId !== undefined && id <= query.afterId)) continue;
      if (query.topic !== undefined && index.topics[index.topic.get(slot)] !== query.topic) continue;
      if (query.groupId !== undefined && index.succGroupsOf(slot).includes(query.groupId)) continue;
      ids.push(id);
    }
    ids.sort();
    const out: DeadLetter[] = [];
    // one that is re-driven or deleted while we read is skipped, and the page filled from further
    // on: a short page means the end to callers (RecoveryManager.redriveWhere)
    for (const id of ids) {
      if (out.length >= query.limit) break;
      const slot = index.slotOf(id);
      const message = await this.get(id);
      if (slot === undefined || !message) continue;
      const { deadTime, deadReason } = index.stateOf(slot);
      out.push({ message, reason: deadReason, deadTime });
    }
    return out;
  }

  async redrive(messageId: string, nextDeliverTime: number): Promise<StoredMessage | undefined> {
    return (await this.change(messageId, { change: 'redrive', nextDeliverTime })) ? this.get(messageId) : undefined;
  }

  /**
   * O(log n + limit): the due order is kept sorted as messages change (store/file/due-list.ts).
   * Reading the bodies is asynchronous, and meanwhile a listed message may finish (acked) or move
   * (delivered, parked, rescheduled). A finished one is left out, and the page is filled from
   * further along the order: a short page tells the caller the order is exhausted (recovery stops
   * there). A moved one is returned with its state as it is now, for the caller to judge (a message
   * parked while we read is still re-driven by a scan for parked messages), but never last: the
   * caller continues after the last message's (nextDeliverTime, messageId), and a moved message's
   * key would jump that cursor past messages it has not seen. So the page ends with one that did not
   * move, read further along when needed, or is short because the order is exhausted.
   */
  async pageDue(query: DueQuery): Promise<StoredMessage[]> {
    this.assertOpen();
    const due = query.committed ? this.state.committedDue : this.state.preparedDue;
    const noCache = { cache: false };
    const moved: StoredMessage[] = [];
    const kept: StoredMessage[] = [];
    let after = query.after;
    while (moved.length + kept.length < query.limit || (kept.length === 0 && moved.length > 0)) {
      const want = Math.max(1, query.limit - moved.length - kept.length);
      const listed = this.listDue(due, query, after, want);
      if (listed.length === 0) break;
      const messages = await Promise.all(listed.map(({ id }) => readStoredMessage(this.readDeps(), id, noCache)));
      messages.forEach((message, i) => {
        if (message === undefined) return;
        if (message.nextDeliverTime === listed[i]!.time) kept.push(message);
        else moved.push(message);
      });
      if (listed.length < want) break;
      const last = listed[listed.length - 1]!;
      after = { nextDeliverTime: last.time, messageId: last.id };
    }
    return moved.concat(kept);
  }

  /**
   * Up to `want` due messages after `after` (fewer only when the order is exhausted), of the query's
   * topics only: the index knows each message's topic, so the others cost no read.
   */
  private listDue(
    due: DueList,
    query: DueQuery,
    after: DueCursor | undefined,
    want: number,
  ): { id: string; time: number }[] {
    const { index } = this.state;
    const listed: { id: string; time: number }[] = [];
    let topicIds: Set<number> | undefined;
    if (query.topics) {
      topicIds = new Set();
      index.topics.forEach((name, id) => query.topics!.includes(name) && topicIds!.add(id));
      if (topicIds.size === 0) return listed;
    }
    for (;;) {
      const slots = due.page(query.dueBy, after, want);
      for (const slot of slots) {
        if (topicIds && !topicIds.has(index.topic.get(slot))) continue;
        listed.push({ id: index.idOf(slot), time: index.nextDeliverTime.get(slot) });
        if (listed.length === want) return listed;
      }
      if (slots.length < want) return listed;
      const last = slots[slots.length - 1]!;
      after = { nextDeliverTime: index.nextDeliverTime.get(last), messageId: index.idOf(last) };
    }
  }

  async countsByTopic(): Promise<Record<string, number>> {
    return this.state.countsByTopic();
  }

  /** an index walk and at most `readBudget` header reads, at the caller's pace (group-backlog.ts) */
  async groupBacklog(query: GroupBacklogQuery, readBudget = READ_BUDGET): Promise<Record<string, GroupBacklog>> {
    this.assertOpen();
    return fileGroupBacklog(this.readDeps(), query, readBudget);
  }

  /** from the index, kept as messages are shown and hidden; rebuilt by replay (store-state.ts) */
  scheduledCount(nowMs: number): number {
    return this.state.scheduled.count(nowMs);
  }

  private change(messageId: string, change: StateChange): Promise<boolean> {
    const closed = this.notOpen();
    if (closed) return Promise.reject(closed);
    // Array.of, not a literal: the queued one-op array must not get a pretenured site either (ops.ts)
    return new Promise<boolean>((resolve, reject) =>
      this.writer!.submit(Array.of<StoreOp>(new StateCall(messageId, change, resolve, reject))),
    );
  }

  /** lazy (group-commit.ts): a delete rides with the next batch a save starts, or LINGER_MS later */
  private enqueueDelete(messageId: string): Promise<boolean> {
    const closed = this.notOpen();
    if (closed) return Promise.reject(closed);
    return new Promise<boolean>((resolve, reject) =>
      this.writer!.submit(Array.of<StoreOp>(new DeleteCall(messageId, resolve, reject)), true),
    );
  }

  private readDeps() {
    return {
      state: this.state,
      cache: this.cache,
      segment: (id: number) => this.segments.get(id),
      toStoreError: (e: unknown, d: string) => this.toStoreError(e, d),
    };
  }

  private assertOpen(): void {
    const closed = this.notOpen();
    if (closed) throw closed;
  }

  private notOpen(): StoreError | undefined {
    return this.phase === 'open'
      ? undefined
      : new StoreUnavailableError(`file store ${this.config.dir} is not open (${this.phase})`);
  }

  private async newSegment(id: number): Promise<OpenSegment> {
    const segment = await createSegment(this.config.dir, id, this.config.fsync !== 'interval');
    this.segments.set(id, segment);
    this.state.ledger.add(id, 0);
    return segment;
  }

  private async segmentForNextBatch(): Promise<OpenSegment> {
    const active = this.active!;
    if (active.size < this.config.segmentBytes) return active;
    await this.writer!.syncDirty(); // fsync=interval: the full segment is synced before we move on
    this.active = await this.newSegment(active.id + 1);
    return this.active;
  }

  private afterBatch(segment: OpenSegment): void {
    const usage = this.state.ledger.get(segment.id);
    if (usage) usage.size = segment.size;
    this.reclaimer!.kick();
  }

  /** A write found the disk full: give the reserve to the records that finish messages, refuse saves. */
  private async onNoSpace(): Promise<boolean> {
    if (this.config.reserveBytes === 0) return false;
    const released = await this.reserve.release();
    this.enterFull();
    return released;
  }

  private enterFull(): void {
    if (this.full || this.config.reserveBytes === 0) return;
    this.full = true;
    this.logger.error(
      { dir: this.config.dir, reserveBytes: this.config.reserveBytes },
      'file store: disk full, refusing new messages until space returns',
    );
    this.fullTimer = setInterval(() => void this.tryLeaveFull(), 1000);
    this.fullTimer.unref();
  }

  /** Hysteresis: leave only with room for the reserve and as much again, so saves do not flap. */
  private async tryLeaveFull(): Promise<void> {
    if (!this.full || this.leavingFull || this.phase !== 'open') return;
    this.leavingFull = true;
    try {
      if ((await this.reserve.freeBytes()) < 2 * this.config.reserveBytes) return;
      if (!(await this.reserve.acquire())) return;
      this.full = false;
      clearInterval(this.fullTimer);
      this.logger.info({ dir: this.config.dir }, 'file store: disk has room again, accepting new messages');
    } catch (error) {
      this.logger.error({ err: error }, 'file store: could not check free disk space');
    } finally {
      this.leavingFull = false;
    }
  }

  private async removeSegmentFile(id: number): Promise<void> {
    const segment = this.segments.get(id);
    if (!segment) return;
    this.segments.delete(id);
    await removeSegment(this.config.dir, segment);
    await syncDirectory(this.config.dir);
  }

  private toStoreError(error: unknown, doing: string): StoreError {
    if (error instanceof StoreError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const detail = error instanceof Error ? error.message : String(error);
    if (isNoSpace(error)) {
      return new StoreFullError(
        `file store ${this.config.dir}: disk full (${code}) while ${doing}; free space or let deliveries finish messages, then retry`,
        { cause: error },
      );
    }
    return new StoreUnavailableError(`file store ${this.config.dir}: I/O error while ${doing}: ${detail}`, {
      cause: error,
    });
  }
}
