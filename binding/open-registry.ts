// Picks a registry by URI (doc/architecture.md §3): zk://host:port[,host:port] or file://path.yaml.
import { type RegistryLogger, FileRegistry } from './file-registry';
import type { Registry } from './registry';
import { openZkRegistry } from './zk';

export function openRegistry(uri: string, log?: RegistryLogger): Registry {
  if (uri.startsWith('file://')) return new FileRegistry(uri.slice('file://'.length), log);
  if (uri.startsWith('zk://')) return openZkRegistry(uri, { logger: log });
  throw new Error(`unknown registry URI "${uri}": expected zk://host:port[,host:port] or file://path.yaml`);
}
