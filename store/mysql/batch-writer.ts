// Coalesces saves, delivery results, commits, check updates and deletes from many callers into one
// transaction per table per flush (doc/architecture.md §8, §12). Scheduling, per table:
// - a table has at most one flush in flight, and batches leave in order, so a message's operations
//   reach MySQL in the order they were called;
// - at most `flushConcurrency` flushes are in flight over all tables (each holds a connection);
// - a batch leaves as soon as its table and a flush slot are free: batching never costs latency while
//   there is capacity to send, and batches grow only while every slot (or their table) is busy, so
//   under load statements do not multiply (doc/mysql-store.md "Batching").
import type { StoredMessage } from '../contract';
import { StoreUnavailableError } from '../errors';
import { type StatementCounts, emptyCounts, flushBatch } from './batch-sql';
import type { MysqlEndpoint } from './connection';
import type { Sharding, TableRef } from './sharding';
import { TableBatch, type UpdateFields, type Waiter } from './table-batch';

/** Keeps one multi-row INSERT well under MariaDB's default max_allowed_packet (16 MiB). */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface TableQueue {
  table: TableRef;
  /** waiting batches, oldest first; the last one takes new operations */
  waiting: TableBatch[];
  inFlight: TableBatch | undefined;
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
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly sharding: Sharding,
    private readonly options: BatchWriterOptions,
  ) {
    this.queues = sharding.tables.map((table) => ({ table, waiting: [], inFlight: undefined, lastBatchOf: new Map() }));
  }

  save(message: StoredMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queueFor(message.header.messageId, reject);
      if (!queue) return;
      let batch = this.tail(queue);
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
      let batch = this.tail(queue);
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
      let batch = this.tail(queue);
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
      this.schedulePump();
      await batch.done;
    }
  }

  /** Resolves once every operation queued before this call has been flushed (new ones may follow). */
  async barrier(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const queue of this.queues) {
      if (queue.inFlight) pending.push(queue.inFlight.done);
      for (const batch of queue.waiting) pending.push(batch.done);
    }
    if (pending.length === 0) return;
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

  private tail(queue: TableQueue): TableBatch {
    return queue.waiting[queue.waiting.length - 1] ?? this.newBatch(queue);
  }

  private newBatch(queue: TableQueue): TableBatch {
    const batch = new TableBatch(this.options.batchSize, MAX_BATCH_BYTES);
    queue.waiting.push(batch);
    return batch;
  }

  private track(queue: TableQueue, messageId: string, batch: TableBatch): void {
    queue.lastBatchOf.set(messageId, batch);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    const free = this.options.flushConcurrency - this.inFlight;
    if (free > 0) {
      const ready = this.queues.filter((q) => !q.inFlight && q.waiting.length > 0 && q.waiting[0].size > 0);
      // oldest first, so a busy table cannot starve the others of slots
      if (ready.length > free) ready.sort((a, b) => a.waiting[0].createdAtMs - b.waiting[0].createdAtMs);
      for (const queue of ready.slice(0, free)) this.dispatch(queue);
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private dispatch(queue: TableQueue): void {
    const batch = queue.waiting.shift()!;
    queue.inFlight = batch;
    this.inFlight++;
    void flushBatch(this.endpoint, queue.table, batch, this.options.kiteServer, this.counts).finally(() => {
      queue.inFlight = undefined;
      this.inFlight--;
      for (const id of batch.ids()) if (queue.lastBatchOf.get(id) === batch) queue.lastBatchOf.delete(id);
      batch.markDone();
      this.schedulePump();
    });
  }
}
