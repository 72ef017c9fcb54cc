// What the admin HTTP endpoints need from the broker (doc/architecture.md §10): a narrow port, so the
// endpoint files never reach into broker internals (nats.js' PH habit). server/http/broker-port.ts builds it.
import type { Binding } from '../../binding/binding';
import type { BrokerStats } from '../../stat/broker-stats';
import type {
  DeadLetter,
  DeadLetterQuery,
  DueCursor,
  StoreDamageStats,
  StoredMessage,
  StoreWriteStats,
} from '../../store/contract';
import type { CancelOutcome, ScheduledPage, ScheduledQuery } from '../scheduled';

export interface ReachableResult {
  ok: boolean;
  reason?: string;
}

export interface ReloadResult {
  /** keys whose new value is in force now */
  applied: string[];
  /** keys that changed in the config but only take effect after a restart */
  restartRequired: string[];
}

/** An authenticated connection of a group, as the console's Groups view shows it. */
export interface GroupConsumer {
  remote: string;
  /** unix ms it authenticated */
  authAtMs: number;
  /** the warm-up it asked for (doc/delivery.md): deliveries ramp up over this many seconds */
  warmingupSec: number;
}

export interface AdminPort {
  readonly serverName: string;
  /** the package's version (package.json) */
  readonly version: string;
  /** the store's URI scheme and whether it survives a crash */
  readonly storeKind: { kind: string; durable: boolean };
  /** free and total bytes of the file store's filesystem; null for the other stores */
  storeDisk(): Promise<{ freeBytes: number; totalBytes: number } | null>;
  /** durable-write figures of the file store (failures = disk full or I/O errors); undefined for the others */
  storeWrites(): StoreWriteStats | undefined;
  /** other live brokers in the registry (zk:// only; [] when the registry cannot tell) */
  peers(): readonly string[];
  /** groupId → its authenticated connections (the console's Groups view) */
  consumers(): Record<string, GroupConsumer[]>;
  /** prepared (uncommitted) messages by next check-back, after the cursor (doc/transactions.md) */
  listPrepared(query: { after?: DueCursor; limit: number }): Promise<StoredMessage[]>;
  /** Deletes a dead letter for good; false when it is not one (doc/console.md "Dead letters"). */
  deleteDeadLetter(messageId: string): Promise<boolean>;
  topics(): readonly string[];
  stats: BrokerStats;
  connections(): number;
  inFlightCount(): number;
  isInFlight(messageId: string): boolean;
  /** groupId → remote addresses of its open, authenticated connections */
  onlineGroups(): Record<string, string[]>;
  bindings(): readonly Binding[];
  /** publishes accepted per second (0 = unlimited): KiteQ's recievePermitsPerSecond */
  publishPermitsPerSecond(): number;
  getMessage(messageId: string): Promise<StoredMessage | undefined>;
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  /**
   * Moves a dead letter back: delivered at once, or checked back again if prepared; false when it is not a dead letter.
   */
  redrive(messageId: string): Promise<boolean>;
  /** Deletes a message whose kiteq.deliverAt has not come (doc/delayed-delivery.md). */
  cancelScheduled(messageId: string): Promise<CancelOutcome>;
  listScheduled(query: ScheduledQuery): Promise<ScheduledPage>;
  storeReachable(): Promise<ReachableResult>;
  /** damage the store found in its files at start; undefined when it does not check (memory, mysql) */
  storeDamage(): StoreDamageStats | undefined;
  registryReachable(): Promise<ReachableResult>;
  /** null when no config source is known (a broker built in code) */
  reload: (() => Promise<ReloadResult>) | null;
  /** bearer token of mutating endpoints; undefined = they are refused (403) */
  httpToken(): string | undefined;
}
