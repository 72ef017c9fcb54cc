// Coalesces saves, delivery results, commits, check updates and deletes from many callers into
// multi-row statements, and the waiting batches of many tables into one transaction per flush
// (doc/architecture.md §8, §12; doc/mysql-store.md "Batching"). Scheduling:
// - a message's operations reach MySQL in the order they were called: a batch holding an operation
//   on an id that an earlier batch (waiting or in flight) also touches leaves only once that one has
//   flushed (TableBatch.after); batches on other ids go at once, even to a table with a flush in
//   flight, and an operation free to go never joins a batch that must wait;
// - a flush writes its tables in table order, so concurrent flushes never wait on each other's
//   tables in a cycle (InnoDB deadlocks, retried in connection.ts, cost throughput);
// - at most `flushConcurrency` flushes are in flight (each holds a connection);
// - flushes leave as soon as a slot is free and take every batch that may leave, over all tables
//   (plan(): saves apart from the rest when two slots are free, many operations spread over the free
//   slots): batching never costs latency while there is capacity to send, a message waits for no
//   timer, and batches grow only while every slot is busy, so under load commits do not multiply.
import type { StoredMessage } from '../contract';
import { StoreUnavailableError } from '../errors';
import { type StatementCounts, emptyCounts, flushTogether } from './batch-sql';
import type { MysqlEndpoint } from './connection';
import type { Sharding, TableRef } from './sharding';
import { TableBatch, type UpdateFields, type Waiter } from './table-batch';

/** Keeps one flush (all its tables' rows) well under MariaDB's default max_allowed_packet (16 MiB). */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * A plain delete (an acked message's row) waits this long, or until LINGER_OPS of them wait, and then
 * they all go together: nobody waits for it, and at tens of messages in flight over 16 tables it was a
 * DELETE statement per message (doc/mysql-store.md "Deletes linger").
 */
const LINGER_MS = 50;
const LINGER_OPS = 256;

/** More operations than this waiting are spread over the free slots (pump). */
const SPREAD_OPS = 16;

interface TableQueue {
  table: TableRef;
  /** waiting batches, oldest first; the last one that is not `lingering` takes new operations */
  waiting: TableBatch[];
  /** the waiting batch that collects plain deletes until releaseLingering() (also in `waiting`) */
  lingering: TableBatch | undefined;
  inFlight: Set<TableBatch>;
  /** the last batch (waiting or in flight) that touches each id */
  lastBatchOf: Map<string, TableBatch>;
}

export interface BatchWriterOptions {
  batchSize: number;
  flushConcurrency: number;
  kiteServer: string;
}

export class BatchWriter {
  readonly counts: StatementCounts = emptyCounts();
  private readonly queues: TableQueue[];
  private inFlight = 0;
  private pumpScheduled = false;
  private lingeringOps = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly sharding: Sharding,
    private readonly options: BatchWriterOptions,
  ) {
    this.queues = sharding.tables.map((table) => ({
      table,
      waiting: [],
      lingering: undefined,
      inFlight: new Set(),
      lastBatchOf: new Map(),
    }));
  }

  save(message: StoredMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queueFor(message.header.messageId, reject);
      if (!queue) return;
      let batch = this.batchFor(queue, message.header.messageId);
      if (!batch.addInsert(message, { resolve, reject })) {
        batch = this.newBatch(queue);
        batch.addInsert(message, { resolve, reject });
      }
      this.track(queue, message.header.messageId, batch);
    });
  }

  update(messageId: string, fields: UpdateFields): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queueFor(messageId, reject);
      if (!queue) return;
      const waiter: Waiter<void> = { resolve, reject };
      let batch = this.batchFor(queue, messageId);
      if (!batch.addUpdate(messageId, fields, waiter)) {
        batch = this.newBatch(queue);
        batch.addUpdate(messageId, fields, waiter);
      }
      this.track(queue, messageId, batch);
    });
  }

  /** Resolves whether the row existed when asked (wantExisted), else false. */
  remove(messageId: string, wantExisted: boolean): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const queue = this.queueFor(messageId, reject);
      if (!queue) return;
      const waiter: Waiter<boolean> = { resolve, reject };
      if (!wantExisted && this.linger(queue, messageId, waiter)) return;
      let batch = this.batchFor(queue, messageId);
      if (!batch.addDelete(messageId, wantExisted, waiter)) {
        batch = this.newBatch(queue);
        batch.addDelete(messageId, wantExisted, waiter);
      }
      this.track(queue, messageId, batch);
    });
  }

  /** Waits until every operation already queued for this id has been flushed (read-your-writes). */
  async settled(messageId: string): Promise<void> {
    const queue = this.queues[this.sharding.tableFor(messageId).index];
    const batch = queue.lastBatchOf.get(messageId);
    if (batch) {
      if (batch.lingering) this.releaseLingering();
      this.schedulePump();
      await batch.done;
    }
  }

  /** Resolves once every operation queued before this call has been flushed (new ones may follow). */
  async barrier(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const queue of this.queues) {
      for (const batch of queue.inFlight) pending.push(batch.done);
      for (const batch of queue.waiting) pending.push(batch.done);
    }
    if (pending.length === 0) return;
    this.releaseLingering();
    this.schedulePump();
    await Promise.all(pending);
  }

  /** Flushes everything queued; later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  /** Resolves once nothing is waiting or in flight. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    this.releaseLingering();
    this.schedulePump();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.queues.every((q) => q.waiting.length === 0);
  }

  private queueFor(messageId: string, reject: (e: unknown) => void): TableQueue | undefined {
    if (this.closed) {
      reject(new StoreUnavailableError('mysql store is stopped'));
      return undefined;
    }
    this.schedulePump();
    return this.queues[this.sharding.tableFor(messageId).index];
  }

  /**
   * The waiting batch an operation on this id joins: its id's own batch when that is the last one;
   * else the last batch when it agrees on waiting (an operation that must wait for its id's batch in
   * flight joins batches that wait; any other joins one that may leave now); else a new one.
   */
  private batchFor(queue: TableQueue, messageId: string): TableBatch {
    const tail = openTail(queue);
    const last = queue.lastBatchOf.get(messageId);
    if (tail && last === tail) return tail;
    const mustWait = last !== undefined && !last.isDone;
    if (tail && tail.mayLeave !== mustWait) return tail;
    return this.newBatch(queue);
  }

  private newBatch(queue: TableQueue): TableBatch {
    const batch = new TableBatch(this.options.batchSize, MAX_BATCH_BYTES);
    queue.waiting.push(batch);
    return batch;
  }

  private track(queue: TableQueue, messageId: string, batch: TableBatch): void {
    const previous = queue.lastBatchOf.get(messageId);
    if (previous === batch) return;
    if (previous && !previous.isDone) batch.after.add(previous);
    // an operation after a lingering delete of its id waits for it: let it go now
    if (previous?.lingering) this.releaseLingering();
    queue.lastBatchOf.set(messageId, batch);
  }

  /**
   * A plain delete joins its id's batch when that is the one taking new operations (it leaves soon
   * anyway), else its table's lingering batch (after the id's earlier batches, as any operation).
   * false: the caller queues it as usual.
   */
  private linger(queue: TableQueue, messageId: string, waiter: Waiter<boolean>): boolean {
    const last = queue.lastBatchOf.get(messageId);
    if (last && !last.lingering && last === openTail(queue)) return false;
    let batch = queue.lingering;
    if (!batch) {
      batch = queue.lingering = this.newBatch(queue);
      batch.lingering = true;
    }
    if (!batch.addDelete(messageId, false, waiter)) {
      this.releaseLingering(); // full (a batchSize below LINGER_OPS): it goes, this delete as usual
      return false;
    }
    this.track(queue, messageId, batch);
    if (++this.lingeringOps >= LINGER_OPS) this.releaseLingering();
    else this.lingerTimer ??= setTimeout(() => this.releaseLingering(), LINGER_MS);
    return true;
  }

  /** Every table's lingering deletes may leave now (together, in the next flushes). */
  private releaseLingering(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.lingeringOps === 0) return;
    this.lingeringOps = 0;
    for (const queue of this.queues) {
      if (queue.lingering) queue.lingering.lingering = false;
      queue.lingering = undefined;
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    let free = this.options.flushConcurrency - this.inFlight;
    if (free > 0) {
      const ready: FlushPart[] = [];
      for (const queue of this.queues) {
        for (const batch of queue.waiting) {
          if (batch.mayLeave && !batch.lingering) ready.push({ queue, table: queue.table, batch });
        }
      }
      // oldest first, so when the flushes cannot take them all the oldest go first
      if (ready.length > 1) ready.sort((a, b) => a.batch.createdAtMs - b.batch.createdAtMs);
      for (const flush of this.plan(ready, free)) {
        // every flush writes its tables in one order, so two flushes never wait on each other's tables in a cycle
        this.dispatch(flush.sort((a, b) => a.table.index - b.table.index));
        if (--free === 0) break;
      }
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Splits the batches that may leave into at most `free` flushes, oldest first: saves apart from
   * the rest when two slots are free (a publisher waits for its save's commit, not for deletes),
   * and spread over the free slots at SPREAD_OPS operations each, so MariaDB runs them on several
   * threads; each flush at most ~MAX_BATCH_BYTES of rows.
   */
  private plan(ready: FlushPart[], free: number): FlushPart[][] {
    if (ready.length === 0) return [];
    const saving = ready.filter((p) => p.batch.inserts.size > 0);
    const groups =
      free >= 2 && saving.length > 0 && saving.length < ready.length
        ? [saving, ready.filter((p) => p.batch.inserts.size === 0)]
        : [ready];
    const flushes: FlushPart[][] = [];
    for (const group of groups) {
      const ops = group.reduce((n, p) => n + p.batch.size, 0);
      const share = Math.max(1, Math.floor(free / groups.length));
      const count = Math.min(share, group.length, Math.max(1, Math.ceil(ops / SPREAD_OPS)));
      const perFlush = Math.ceil(ops / count);
      let flush: FlushPart[] = [];
      let flushOps = 0;
      let bytes = 0;
      for (const part of group) {
        const full = flushOps >= perFlush || bytes + part.batch.insertBytes > MAX_BATCH_BYTES;
        if (flush.length > 0 && full) {
          flushes.push(flush);
          flush = [];
          flushOps = bytes = 0;
        }
        flush.push(part);
        flushOps += part.batch.size;
        bytes += part.batch.insertBytes;
      }
      flushes.push(flush);
    }
    return flushes;
  }

  private dispatch(parts: FlushPart[]): void {
    for (const { queue, batch } of parts) {
      queue.waiting.splice(queue.waiting.indexOf(batch), 1);
      queue.inFlight.add(batch);
    }
    this.inFlight++;
    void flushTogether(this.endpoint, parts, this.options.kiteServer, this.counts).finally(() => {
      this.inFlight--;
      for (const { queue, batch } of parts) {
        queue.inFlight.delete(batch);
        for (const id of batch.ids()) if (queue.lastBatchOf.get(id) === batch) queue.lastBatchOf.delete(id);
        batch.markDone();
      }
      this.schedulePump();
    });
  }
}

/** The waiting batch that takes new operations: the last one, passing over the lingering batch. */
function openTail(queue: TableQueue): TableBatch | undefined {
  for (let i = queue.waiting.length - 1; i >= 0; i--) if (!queue.waiting[i].lingering) return queue.waiting[i];
  return undefined;
}

interface FlushPart {
  queue: TableQueue;
  table: TableRef;
  batch: TableBatch;
}
