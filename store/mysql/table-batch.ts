// The operations waiting for one table's next flush (doc/architecture.md §8: writes are multi-row batches).
// A flush runs them as inserts, then updates, then deletes. That order is each message's own order
// except for an insert of an id the batch already touched, so such an insert starts a new batch
// (issue: a recordDelivery/delete never overtakes its own save, and vice versa).
import type { StoredMessage } from '../contract';

export interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Columns an update sets; later updates of the same id in one batch override earlier ones. */
export interface UpdateFields {
  succGroups?: string[];
  failGroups?: string[];
  deliverCount?: number;
  nextDeliverTime?: number;
  commit?: boolean;
  checkCount?: number;
}

export interface InsertOp {
  message: StoredMessage;
  waiter: Waiter<void>;
  bytes: number;
}

export interface UpdateOp {
  fields: UpdateFields;
  waiters: Waiter<void>[];
}

export interface DeleteOp {
  /** someone (rollback) wants to know whether the row existed */
  wantExisted: boolean;
  waiters: Waiter<boolean>[];
}

function sizeOf(message: StoredMessage): number {
  const body = typeof message.body === 'string' ? Buffer.byteLength(message.body) : message.body.length;
  return body + 512; // header, ids and groups: a rough bound is enough to keep statements small
}

export class TableBatch {
  readonly inserts = new Map<string, InsertOp>();
  readonly updates = new Map<string, UpdateOp>();
  readonly deletes = new Map<string, DeleteOp>();
  readonly createdAtMs = performance.now();
  /** earlier batches of the same table holding an operation on an id this batch touches: they flush first */
  readonly after = new Set<TableBatch>();
  /** collects plain deletes and waits for BatchWriter.releaseLingering before it may leave */
  lingering = false;
  private ops = 0;
  private bytes = 0;
  private finished = false;
  /** settles (never rejects) once the flush of this batch has finished */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly maxOps: number,
    private readonly maxBytes: number,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  markDone(): void {
    this.finished = true;
    this.after.clear(); // no chain of finished batches (and their rows) kept alive
    this.resolveDone();
  }

  get isDone(): boolean {
    return this.finished;
  }

  /** every earlier batch it depends on has flushed: it may go, alongside any other batch */
  get mayLeave(): boolean {
    for (const batch of this.after) if (!batch.finished) return false;
    return true;
  }

  /** bytes of the rows it inserts (a rough bound) */
  get insertBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.ops;
  }

  get full(): boolean {
    return this.ops >= this.maxOps || this.bytes >= this.maxBytes;
  }

  private touches(id: string): boolean {
    return this.inserts.has(id) || this.updates.has(id) || this.deletes.has(id);
  }

  /** false: the insert must go to a later batch to keep this id's order */
  addInsert(message: StoredMessage, waiter: Waiter<void>): boolean {
    const id = message.header.messageId;
    if (this.full || this.touches(id)) return false;
    const bytes = sizeOf(message);
    this.inserts.set(id, { message, waiter, bytes });
    this.ops++;
    this.bytes += bytes;
    return true;
  }

  addUpdate(id: string, fields: UpdateFields, waiter: Waiter<void>): boolean {
    const existing = this.updates.get(id);
    if (existing) {
      Object.assign(existing.fields, fields);
      existing.waiters.push(waiter);
      return true;
    }
    if (this.full) return false;
    this.updates.set(id, { fields: { ...fields }, waiters: [waiter] });
    this.ops++;
    return true;
  }

  addDelete(id: string, wantExisted: boolean, waiter: Waiter<boolean>): boolean {
    const existing = this.deletes.get(id);
    if (existing) {
      existing.wantExisted ||= wantExisted;
      existing.waiters.push(waiter);
      return true;
    }
    if (this.full) return false;
    this.deletes.set(id, { wantExisted, waiters: [waiter] });
    this.ops++;
    return true;
  }

  /** Every message id this batch touches. */
  ids(): IterableIterator<string> {
    return new Set([...this.inserts.keys(), ...this.updates.keys(), ...this.deletes.keys()]).values();
  }

  /** Rejects every waiter with the same error (the whole transaction failed). */
  rejectAll(error: unknown): void {
    for (const op of this.inserts.values()) op.waiter.reject(error);
    for (const op of this.updates.values()) for (const w of op.waiters) w.reject(error);
    for (const op of this.deletes.values()) for (const w of op.waiters) w.reject(error);
  }
}
