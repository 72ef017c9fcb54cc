import type { MessageStore, StoreOpenOptions } from '../contract';
import { MysqlStore } from './mysql-store';
import { parseMysqlUri } from './uri';

export { MysqlStore } from './mysql-store';
export { parseMysqlUri, type MysqlStoreConfig } from './uri';
export type { StatementCounts } from './batch-sql';

/** mysql://host:port[,replica:port]?db=kite&... (doc/architecture.md §8); see doc/mysql-store.md */
export function openMysqlStore(uri: string, options: StoreOpenOptions): MessageStore {
  return new MysqlStore(parseMysqlUri(uri), options);
}
