// file store pageDue (doc/architecture.md §6 recovery paging; doc/delivery.md "Recovery manager"): the page's
// bodies are read from disk asynchronously, and messages finish or move meanwhile. A short page
// means "nothing more is due" to the recovery scan, and the scan continues after the last message's
// key, so: finished ones are replaced from further along, and a moved one is never last.
// The store is reopened so the bodies are not cached: pageDue then awaits disk reads, and the
// changes submitted right after it are formed (applied in memory) before those reads return.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { StoredMessage } from '../store/contract';
import { type FileStore, openFileStore } from '../store/file';
import { tempDir } from './support/broker';
import { aMessage } from './support/messages';

describe('file store - pageDue while messages finish or move', function () {
  this.timeout(20_000);
  const now = Math.floor(Date.now() / 1000);
  let dir: string;
  let store: FileStore;
  let ids: string[];
  const open = async () => {
    store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' }) as FileStore;
    await store.start();
  };
  const idsOf = (page: StoredMessage[]) => page.map((m) => m.header.messageId);
  /** an urgent write, so the lazy deletes queued before it are formed at once */
  const urgentSave = () => store.save({ ...aMessage(), nextDeliverTime: now + 3600 });

  beforeEach(async () => {
    dir = tempDir('kiteq-file-page-due-');
    await open();
    const messages = Array.from({ length: 10 }, () => ({ ...aMessage(), nextDeliverTime: now }));
    await store.saveBatch(messages);
    ids = messages.map((m) => m.header.messageId).sort(); // one due time: (time, id) order is id order
    await store.stop();
    await open(); // empty body cache
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills the page from further along when listed messages finish while it reads', async () => {
    const paging = store.pageDue({ dueBy: now + 10, limit: 5, committed: true });
    const deletes = ids.slice(0, 3).map((id) => store.delete(id));
    await Promise.all([urgentSave(), ...deletes]);
    const page = await paging;
    assert.deepEqual(idsOf(page), ids.slice(3, 8));
  });

  it('returns a message that moved while it read with its state now, never last', async () => {
    const paging = store.pageDue({ dueBy: now + 10, limit: 5, committed: true });
    const moved = ids[4]!; // the last one listed
    await store.recordDelivery(moved, {
      succGroups: [],
      failGroups: ['s-a'],
      deliverCount: 1,
      nextDeliverTime: now + 60,
    });
    const page = await paging;
    assert.deepEqual(new Set(idsOf(page)), new Set(ids.slice(0, 5)));
    const last = page[page.length - 1]!;
    assert.notEqual(last.header.messageId, moved, 'the cursor (last key) must not jump to the moved key');
    const seen = page.find((m) => m.header.messageId === moved)!;
    assert.equal(seen.nextDeliverTime, now + 60);
    assert.deepEqual(seen.failGroups, ['s-a']);
    // continuing after the last key lists the rest of the order once, without the moved message
    const rest = await store.pageDue({
      dueBy: now + 10,
      limit: 10,
      committed: true,
      after: { nextDeliverTime: last.nextDeliverTime, messageId: last.header.messageId },
    });
    assert.deepEqual(idsOf(rest), ids.slice(5));
  });
});
