// KiteQ's ZooKeeper layout (doc/architecture.md §3 table) and the -bind node JSON, byte-compatible with the
// Go broker: field names and order of kiteq-common registry.Binding's json tags, compact.
import type { Binding } from '../binding';

export const KITEQ_ROOT = '/kiteq';
export const SERVER_ROOT = `${KITEQ_ROOT}/server`;
export const ALIVE_SERVERS = `${KITEQ_ROOT}/alive_servers`;
export const ALL_SERVERS = `${KITEQ_ROOT}/all_servers`;
export const PUB_ROOT = `${KITEQ_ROOT}/pub`;
export const SUB_ROOT = `${KITEQ_ROOT}/sub`;
/** ours, not KiteQ's: lock nodes for broker takeover (doc/architecture.md §9) */
export const LOCK_ROOT = `${KITEQ_ROOT}/locks`;

const BIND_SUFFIX = '-bind';

/** /kiteq/server/<topic>: one ephemeral child per broker serving the topic */
export const topicServersPath = (topic: string): string => `${SERVER_ROOT}/${topic}`;
export const brokerTopicPath = (topic: string, address: string): string => `${SERVER_ROOT}/${topic}/${address}`;
export const aliveServerPath = (address: string): string => `${ALIVE_SERVERS}/${address}`;
export const allServerPath = (address: string): string => `${ALL_SERVERS}/${address}`;
export const publisherPath = (topic: string, groupId: string, hostname: string): string =>
  `${PUB_ROOT}/${topic}/${groupId}/${hostname}`;
/** /kiteq/sub/<topic>: one persistent <groupId>-bind child per consumer group */
export const topicSubscriptionsPath = (topic: string): string => `${SUB_ROOT}/${topic}`;
export const bindNodePath = (topic: string, groupId: string): string => `${SUB_ROOT}/${topic}/${groupId}${BIND_SUFFIX}`;
export const lockPath = (name: string): string => `${LOCK_ROOT}/${name}`;

/** The groupId of a /kiteq/sub/<topic> child, or undefined when it is not a -bind node. */
export function groupIdOfBindNode(child: string): string | undefined {
  return child.endsWith(BIND_SUFFIX) && child.length > BIND_SUFFIX.length
    ? child.slice(0, -BIND_SUFFIX.length)
    : undefined;
}

/** A path segment must not contain '/' (a topic, groupId, hostname or host:port). */
export function checkSegment(what: string, value: string): void {
  if (value === '' || value.includes('/'))
    throw new Error(`${what} ${JSON.stringify(value)} cannot be a ZooKeeper path segment`);
}

/**
 * The JSON array KiteQ writes into a -bind node:
 * [{"groupId","topic","messageType","bindType","version","watermark","persistent"}].
 */
export function encodeBindNode(bindings: Binding[]): Buffer {
  const ordered = bindings.map((b) => ({
    groupId: b.groupId,
    topic: b.topic,
    messageType: b.messageType,
    bindType: b.bindType,
    version: b.version,
    watermark: b.watermark,
    persistent: b.persistent,
  }));
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}
