// The store backends that test/store-contract.spec.ts runs its suite against (doc/architecture.md §8).
// A new backend adds one entry here.
import type { MessageStore } from '../../store/contract';
import { MemoryStore } from '../../store/memory/memory-store';
import { MysqlStore, parseMysqlUri } from '../../store/mysql';
import { freshTestDatabase, type TestDatabase } from './mariadb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFileStore } from '../../store/file';

export interface StoreBackend {
  name: string;
  /** survives a reopen (file, mysql) */
  durable: boolean;
  /** a fresh, started, empty store */
  open(): Promise<MessageStore>;
  /** stop it (and remove its files/database) */
  close(store: MessageStore): Promise<void>;
  /** stop and start again on the same data; only for durable backends */
  reopen?(store: MessageStore): Promise<MessageStore>;
}

export const storeBackends: StoreBackend[] = [
  {
    name: 'memory',
    durable: false,
    async open() {
      const store = new MemoryStore({ maxMessages: 100_000 });
      await store.start();
      return store;
    },
    async close(store) {
      await store.stop();
    },
  },
  fileBackend(),
  mysqlBackend(),
];

/** file: a fresh temp directory per store, small segments so reclaim runs too; removed on close. */
function fileBackend(): StoreBackend {
  const dirs = new WeakMap<MessageStore, string>();
  const openIn = async (dir: string) => {
    const store = openFileStore(`file://${dir}?segmentBytes=1048576`, { serverName: '127.0.0.1:13800' });
    await store.start();
    dirs.set(store, dir);
    return store;
  };
  return {
    name: 'file',
    durable: true,
    open: () => openIn(mkdtempSync(path.join(tmpdir(), 'kiteq-file-store-'))),
    async close(store) {
      await store.stop();
      const dir = dirs.get(store);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async reopen(store) {
      await store.stop();
      return openIn(dirs.get(store)!);
    },
  };
}

/** mysql: a fresh `kiteq_test_<rand>` database set per store, dropped on close (test/support/mariadb.ts). */
function mysqlBackend(): StoreBackend {
  const databases = new WeakMap<MessageStore, TestDatabase>();
  const openOn = async (database: TestDatabase) => {
    const store = new MysqlStore(parseMysqlUri(database.uri()), { serverName: '127.0.0.1:13800' });
    await store.start();
    databases.set(store, database);
    return store;
  };
  return {
    name: 'mysql',
    durable: true,
    async open() {
      return openOn(await freshTestDatabase());
    },
    async close(store) {
      await store.stop();
      await databases.get(store)?.drop();
    },
    async reopen(store) {
      const database = databases.get(store)!;
      await store.stop();
      return openOn(database);
    },
  };
}
