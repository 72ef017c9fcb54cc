// A file store holding `count` pending messages for `kiteq-bench scale`'s backlog dimension,
// written through the store itself (as bench/store-file-startup.ts does), far faster than
// publishing them: 512 B bodies of type BACKLOG_TYPE, bound to a group that never connects, so
// they stay pending while the bench's own messages (another type) go to its consumers.
import { openFileStore } from '../store/file';
import { storedMessage } from './stored-message';

export const BACKLOG_TYPE = 'backlog';
export const BACKLOG_GROUP = 's-backlog';

const BATCH = 1000;

/** Fills `file://<dir>` for the broker at `serverName`; resolves with the seconds it took. */
export async function fillBacklog(dir: string, count: number, serverName: string, ttlSec = 3600): Promise<number> {
  const store = openFileStore(`file://${dir}?fsync=batch`, { serverName });
  await store.start();
  const body = Buffer.alloc(512, 0x61);
  const started = Date.now();
  try {
    for (let i = 0; i < count; i += BATCH) {
      const now = Math.floor(Date.now() / 1000);
      const batch = Array.from({ length: Math.min(BATCH, count - i) }, () => {
        const m = storedMessage(body, now, ttlSec);
        return { ...m, header: { ...m.header, messageType: BACKLOG_TYPE }, kiteServer: serverName };
      });
      await store.saveBatch(batch);
    }
  } finally {
    await store.stop();
  }
  return (Date.now() - started) / 1000;
}
