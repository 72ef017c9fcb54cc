// file store group commit (doc/architecture.md §8; doc/file-store.md "Group commit"): saves share a durable
// write, and a delete starts no write of its own: it rides with the next save, or goes out alone
// within LINGER_MS; a stop writes the deletes still waiting.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFileStore } from '../store/file';
import type { FileStore } from '../store/file/file-store';
import { LINGER_MS } from '../store/file/group-commit';
import { BY_REFERENCE_BYTES } from '../store/file/record-codec';
import { aMessage } from './support/messages';

describe('file store group commit - shared writes and lingering deletes', function () {
  this.timeout(20_000);
  let dir: string;
  let store: FileStore;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-gc-'));
    store = openFileStore(`file://${dir}`, { serverName: 'a:1' }) as FileStore;
    await store.start();
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reopened(): Promise<FileStore> {
    await store.stop();
    store = openFileStore(`file://${dir}`, { serverName: 'a:1' }) as FileStore;
    await store.start();
    return store;
  }

  it('writes 100 concurrent saves in fewer writes than saves, and keeps them all', async () => {
    const messages = Array.from({ length: 100 }, () => aMessage());
    const before = store.stats().batches;
    await Promise.all(messages.map((m) => store.save(m)));
    const writes = store.stats().batches - before;
    assert.ok(writes < messages.length, `${writes} writes for ${messages.length} saves`);
    const again = await reopened();
    for (const m of messages) assert.ok(await again.get(m.header.messageId), `${m.header.messageId} kept`);
  });

  it('keeps every record of a batch bigger than the reused batch buffer, and of the batches after it', async () => {
    // ~2.3 MiB in one call: the batch buffer grows past what it keeps, the next batch gets a fresh one
    const big = Array.from({ length: 3000 }, (_, i) => aMessage({}, Buffer.alloc(700, i % 251)));
    await store.saveBatch(big);
    const after = Array.from({ length: 50 }, (_, i) => aMessage({}, `after ${i}`));
    await Promise.all(after.map((m) => store.save(m)));
    const again = await reopened();
    for (const m of [...big, ...after]) {
      const read = await again.get(m.header.messageId);
      assert.ok(read, `${m.header.messageId} kept`);
      assert.deepEqual(Buffer.from(read.body as Buffer | string), Buffer.from(m.body as Buffer | string));
    }
  });

  it('writes large bodies by reference among small records, one batch, and reads every one back after a restart', async () => {
    // bodies from 16 KiB up are not copied into the batch (record-codec.ts BY_REFERENCE_BYTES): the
    // batch is then several pieces of one writev; each record's length and CRC span its pieces
    const sizes = [10, BY_REFERENCE_BYTES - 1, BY_REFERENCE_BYTES, 300, 1024 * 1024, 70_000, 5, 2 * 1024 * 1024 - 100];
    const messages = sizes.map((size, i) =>
      aMessage({}, Buffer.alloc(size, 0x30 + i).fill(0x7a, size >> 1, (size >> 1) + Math.min(size >> 2, 999))),
    );
    const text = aMessage({}, 'é'.repeat(40_000)); // a large string body: written as UTF-8, not by reference
    await Promise.all([...messages, text].map((m) => store.save(m)));
    await store.delete(messages[2].header.messageId); // a delete record after them
    const again = await reopened();
    for (const m of [...messages, text]) {
      if (m === messages[2]) continue;
      const read = await again.get(m.header.messageId);
      assert.ok(read, `${m.header.messageId} kept`);
      assert.ok(Buffer.from(read.body as Buffer | string).equals(Buffer.from(m.body as Buffer | string)));
    }
    assert.equal(await again.get(messages[2].header.messageId), undefined);
  });

  it('sends a delete out with the next save: one write for both', async () => {
    const finished = aMessage();
    await store.save(finished);
    const before = store.stats().batches;
    const deleting = store.delete(finished.header.messageId);
    await new Promise(setImmediate); // a write the delete started would be under way by now
    const next = aMessage();
    await Promise.all([deleting, store.save(next)]);
    assert.equal(store.stats().batches - before, 1, 'the delete rode with the save');
    const again = await reopened();
    assert.equal(await again.get(finished.header.messageId), undefined);
    assert.ok(await again.get(next.header.messageId));
  });

  it('writes a delete alone once it has waited LINGER_MS for a save', async () => {
    const finished = aMessage();
    await store.save(finished);
    const before = store.stats().batches;
    const asked = performance.now();
    await store.delete(finished.header.messageId);
    const waited = performance.now() - asked;
    assert.equal(store.stats().batches - before, 1);
    assert.ok(waited >= LINGER_MS - 1, `resolved after ${waited.toFixed(1)} ms, before the linger`);
    const again = await reopened();
    assert.equal(await again.get(finished.header.messageId), undefined);
  });

  it('writes the deletes still lingering when the store stops', async () => {
    const finished = Array.from({ length: 3 }, () => aMessage());
    await Promise.all(finished.map((m) => store.save(m)));
    const deletes = finished.map((m) => store.delete(m.header.messageId));
    await store.stop(); // at once: the deletes have not gone out yet
    await Promise.all(deletes);
    store = openFileStore(`file://${dir}`, { serverName: 'a:1' }) as FileStore;
    await store.start();
    for (const m of finished)
      assert.equal(await store.get(m.header.messageId), undefined, `${m.header.messageId} came back`);
  });
});
