// file:///abs/dir?fsync=always|batch|interval&ms=N&segmentBytes=...&cacheBytes=... and file://./relative
// (doc/architecture.md §8; every option in doc/file-store.md).
import type { MessageStore } from '../contract';
import { FileStore, type FileStoreOptions } from './file-store';
import { parseFileStoreUri } from './uri';

export type { FileStoreOptions } from './file-store';
export { FileStore } from './file-store';

export function openFileStore(uri: string, options: FileStoreOptions): MessageStore {
  return new FileStore(parseFileStoreUri(uri), options);
}
