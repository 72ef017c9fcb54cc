// zk:// registry entry point (doc/architecture.md §3). See doc/zookeeper.md.
import type { Registry } from '../registry';
import { defaultZkLogger, type ZkLogger } from './zk-logger';
import { ZkRegistry } from './zk-registry';
import { parseZkUri } from './zk-uri';

export { ZkRegistry } from './zk-registry';
export type { ZkLock } from './zk-lock';
export type { ZkLogger } from './zk-logger';
export { parseZkUri } from './zk-uri';
export { encodeBindNode } from './zk-paths';

export interface ZkRegistryOpenOptions {
  /** pino or any logger with info/warn(obj, msg); default: pino at 'warn' */
  logger?: ZkLogger;
  /** overrides the URI's sessionTimeoutMs; default 10 s */
  sessionTimeoutMs?: number;
  /** overrides the URI's connectTimeoutMs; default 10 s */
  connectTimeoutMs?: number;
}

/**
 * zk://host:port[,host:port...][/chroot][?sessionTimeoutMs=&connectTimeoutMs=], or KiteQ's plain
 * host:port,host:port. Connects on first use (or registry.connect()).
 */
export function openZkRegistry(uri: string, options: ZkRegistryOpenOptions = {}): Registry & ZkRegistry {
  const parsed = parseZkUri(uri);
  return new ZkRegistry({
    connectString: parsed.connectString,
    sessionTimeoutMs: options.sessionTimeoutMs ?? parsed.sessionTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? parsed.connectTimeoutMs,
    logger: options.logger ?? defaultZkLogger(),
  });
}
