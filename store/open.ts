// Picks a store backend by URI scheme (doc/architecture.md §8): memory://, file:///dir?..., mysql://host:port?...
import type { MessageStore, StoreOpenOptions } from './contract';
import { openFileStore } from './file';
import { MemoryStore } from './memory/memory-store';
import { openMysqlStore } from './mysql';

export function openStore(uri: string, options: StoreOpenOptions): MessageStore {
  const scheme = uri.slice(0, uri.indexOf('://'));
  switch (scheme) {
    case 'memory': {
      const params = new URL(uri.replace('memory://', 'memory://x/')).searchParams;
      return new MemoryStore({ maxMessages: Number(params.get('maxMessages') ?? 1_000_000) });
    }
    case 'file':
      return openFileStore(uri, options);
    case 'mysql':
      return openMysqlStore(uri, options);
    default:
      throw new Error(`unknown store URI "${uri}": expected memory://, file:///dir or mysql://host:port`);
  }
}
