// The registry contract (doc/architecture.md §3): zk:// (ZooKeeper) and file:// (YAML) implement it.
// Broker side: announce itself per topic and follow the bindings of the topics it serves.
// Client side: publish its pub/sub nodes and follow the brokers of a topic.
import type { Binding } from './binding';

export interface RegistryLock {
  /** false once released or lost (the registry session ended) */
  readonly held: boolean;
  release(): Promise<void>;
}

export interface BrokerRegistry {
  /**
   * Registers this broker (doc/architecture.md §3 table): /kiteq/server/<topic>/<address> (ephemeral) per topic,
   * /kiteq/alive_servers/<address> (ephemeral), /kiteq/all_servers/<address> (persistent).
   */
  registerBroker(address: string, topics: string[]): Promise<void>;
  /** Removes this broker's ephemeral nodes (graceful shutdown: unregister first). */
  unregisterBroker(): Promise<void>;
  /**
   * Follows every binding of these topics; calls onChange with the whole current set at once
   * and after every change. Bad data for one group is logged and skipped for that group only.
   */
  watchBindings(topics: string[], onChange: (bindings: Binding[]) => void): Promise<void>;
  /** Follows the live brokers (/kiteq/alive_servers); for takeover (doc/architecture.md §9). */
  watchAliveBrokers?(onChange: (addresses: string[]) => void): Promise<void>;
  /** A lock held until released or this broker's session ends, null when another holds it (zk://; for takeover). */
  tryLock?(name: string, owner?: string): Promise<RegistryLock | null>;
  close(): Promise<void>;
}

export interface ClientRegistry {
  /** Writes /kiteq/pub/<topic>/<groupId>/<hostname> for each topic (operators' view only). */
  publishTopics(groupId: string, hostname: string, topics: string[]): Promise<void>;
  /** Writes /kiteq/sub/<topic>/<groupId>-bind, one node per topic with that group's bindings as a JSON array. */
  subscribe(groupId: string, bindings: Binding[]): Promise<void>;
  /** Follows /kiteq/server/<topic>: calls onChange with the broker addresses at once and on every change. */
  watchBrokers(topic: string, onChange: (addresses: string[]) => void): Promise<void>;
  close(): Promise<void>;
}

export type Registry = BrokerRegistry & ClientRegistry;
