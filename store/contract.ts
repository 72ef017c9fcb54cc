// What every message store owes the broker (doc/architecture.md §8). One async contract for memory://,
// file:// and mysql://; every backend passes test/store-contract.spec.ts.
//
// Rules every backend keeps:
// - save()/saveBatch() resolve only once the message is durable for that backend
//   (fsynced for file://, committed for mysql://); on failure they reject with a StoreError.
// - Methods reject with the typed errors of store/errors.ts, never resolve a bare `false`.
// - Times are unix seconds, like KiteQ's columns (next_deliver_time, expired_time).
import type { Logger } from 'pino';
import type { MessageHeader } from '../protocol/messages/header';
import type { MessageCmd } from '../protocol/messages/message';

export interface StoredMessage {
  header: MessageHeader;
  /** BYTES_MESSAGE (0x11) or STRING_MESSAGE (0x12): KiteQ's msg_type column */
  msgType: MessageCmd;
  /** Buffer for bytes messages, string for string messages */
  body: Buffer | string;
  /** unix seconds the broker accepted it (KiteQ: publish_time) */
  publishTime: number;
  /** delivery attempts so far (KiteQ: deliver_count) */
  deliverCount: number;
  /** groups that acked (KiteQ: succ_groups) */
  succGroups: string[];
  /** groups whose last attempt failed (KiteQ: fail_groups) */
  failGroups: string[];
  /** unix seconds when the next delivery (or tx check for a prepared message) is due */
  nextDeliverTime: number;
  /** tx check-backs sent for a prepared message so far (doc/architecture.md §7: kept with the message) */
  checkCount: number;
  /** the broker that owns the message (KiteQ: kite_server), host:port */
  kiteServer: string;
  /**
   * The Header's protobuf bytes when check-message has encoded them (it changed a field): the store
   * record and the delivery packet reuse them rather than encode the header again. Always the
   * encoding of `header`: a store that changes the header (commit) drops them.
   */
  encodedHeader?: Uint8Array;
}

/** doc/architecture.md §6: the outcome of one delivery attempt, recorded before the next one is scheduled. */
export interface DeliveryResult {
  succGroups: string[];
  failGroups: string[];
  deliverCount: number;
  nextDeliverTime: number;
}

/** Recovery paging cursor (doc/architecture.md §6): (nextDeliverTime, messageId), never an offset. */
export interface DueCursor {
  nextDeliverTime: number;
  messageId: string;
}

export interface DueQuery {
  /** only messages whose nextDeliverTime <= this (unix seconds) */
  dueBy: number;
  /** strictly after this cursor in (nextDeliverTime, messageId) order; from the start when absent */
  after?: DueCursor;
  limit: number;
  /** true: committed, unfinished messages (delivery); false: prepared ones (tx check-back) */
  committed: boolean;
  /**
   * only messages of these topics (absent: every topic). A page is still short only when nothing
   * more is due; the others are passed over without their bodies being read.
   */
  topics?: readonly string[];
}

export interface DeadLetter {
  message: StoredMessage;
  reason: string;
  /** unix seconds it was dead-lettered */
  deadTime: number;
}

export interface DeadLetterQuery {
  topic?: string;
  /** only dead letters that this group has not acked (it was bound and did not succeed) */
  groupId?: string;
  /** page after this messageId (ascending id order) */
  afterId?: string;
  limit: number;
}

/** What groupBacklog() needs from the broker (doc/console.md "Per-group backlog"). */
export interface GroupBacklogQuery {
  /** the groups a committed message of (topic, messageType) is delivered to now: the binding table's match */
  groupsOf(topic: string, messageType: string): readonly string[];
  /** unix seconds: a message whose expiredTime is before this no longer counts */
  nowSec: number;
}

/** One group's backlog (doc/console.md "Per-group backlog"). */
export interface GroupBacklog {
  /** committed, not dead-lettered, not expired messages the group is bound to and has not acked */
  undelivered: number;
  /** publishTime (broker receive, unix seconds) of the oldest of them; 0 when there is none */
  oldestPublishTime: number;
  /** true when counted from a sample of the messages (file store over its read budget) */
  estimated: boolean;
}

/** Counters since start: batches written durably, the calls they carried, time spent writing. */
export interface StoreWriteStats {
  batches: number;
  batchedOps: number;
  writeMs: number;
  failedBatches: number;
}

/** Damage the store found in its own files when it started (file store: doc/file-store.md "Recovery"). */
export interface StoreDamageStats {
  /** damaged byte ranges skipped or cut, each copied to <dir>/damaged/ */
  ranges: number;
  bytes: number;
}

export interface MessageStore {
  /** the URI scheme: 'memory', 'file', 'mysql' */
  readonly kind: string;
  /** true when an acked message survives a process crash */
  readonly durable: boolean;

  /** Durable-write figures for /metrics (file store: group commit), when the store keeps them. */
  writeStats?(): StoreWriteStats;
  /** What recovery found damaged at start, when the store checks its files (file store). */
  damageStats?(): StoreDamageStats;
  /** --init-schema: creates the databases and tables that are missing (mysql://, the one store with a schema). */
  createSchema?(): Promise<void>;
  /**
   * Moves up to `limit` messages past their deliver limit or expiry to the dead letters; resolves with
   * how many (mysql://, run on a schedule by server/dlq-mover.ts; the other stores dead-letter inline).
   */
  moveExpiredToDlq?(nowSec: number, limit: number): Promise<number>;
  /**
   * Rewrites a dead broker's unfinished messages to this broker; resolves with how many (mysql://, doc/architecture.md
   * §9).
   */
  takeOver?(deadServer: string): Promise<number>;

  start(): Promise<void>;
  /** Flushes everything pending and releases files/connections. */
  stop(): Promise<void>;

  save(message: StoredMessage): Promise<void>;
  /** All or nothing per message: each resolves/rejects as one; the returned promise rejects if any failed. */
  saveBatch(messages: StoredMessage[]): Promise<void>;
  get(messageId: string): Promise<StoredMessage | undefined>;

  /** Marks a prepared message committed; resolves with it, or undefined when the id is unknown. */
  commit(messageId: string): Promise<StoredMessage | undefined>;
  /** Deletes a prepared message; resolves true when it existed. */
  rollback(messageId: string): Promise<boolean>;
  /** Records a tx check-back sent (doc/architecture.md §7): the count and when the next check is due. */
  recordCheck(messageId: string, checkCount: number, nextDeliverTime: number): Promise<void>;

  /**
   * Resolves once durable, except that a result changing nothing but moving nextDeliverTime later (a
   * parked message's recheck, doc/architecture.md §6) may be kept in memory only: after a crash the message is due
   * at its last recorded time, earlier, never later (file://, doc/file-store.md).
   */
  recordDelivery(messageId: string, result: DeliveryResult): Promise<void>;
  /** Every bound group acked: the message is finished and removed. */
  delete(messageId: string): Promise<void>;

  /** Moves a message to the dead-letter area with a reason (doc/architecture.md §6: kept, never dropped). */
  deadLetter(messageId: string, reason: string): Promise<void>;
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  /**
   * Moves a dead letter back: deliverCount 0, checkCount 0, failGroups and the commit flag kept, due
   * at nextDeliverTime. A prepared one (commit=false) stays prepared: it is due for a check-back, never
   * for delivery (doc/transactions.md). Resolves with it, or undefined.
   */
  redrive(messageId: string, nextDeliverTime: number): Promise<StoredMessage | undefined>;

  /**
   * Due messages in (nextDeliverTime, messageId) order, for recovery and check-back. Fewer than
   * `limit` only when no more are due: callers page until a short page.
   */
  pageDue(query: DueQuery): Promise<StoredMessage[]>;
  /** Unfinished (not dead-lettered) messages per topic. */
  countsByTopic(): Promise<Record<string, number>>;
  /**
   * Per group, the messages it still owes (doc/console.md "Per-group backlog"): a scan at the
   * caller's pace (stat/group-backlog.ts caches it), never work on the publish or deliver path.
   */
  groupBacklog(query: GroupBacklogQuery): Promise<Record<string, GroupBacklog>>;
  /**
   * Stored, not dead-lettered messages (committed or prepared) whose kiteq.deliverAt is still ahead
   * of `nowMs`, to the second; kept by the store, cheap to read, right after a restart
   * (doc/delayed-delivery.md "Counting"). Absent when the store cannot count them so (mysql://).
   */
  scheduledCount?(nowMs: number): number;
}

export interface StoreOpenOptions {
  /** host:port of this broker, written as kiteServer */
  serverName: string;
  /** where the store logs recovery, damage, disk-full and I/O errors (file store); silent when absent */
  logger?: Logger;
}
