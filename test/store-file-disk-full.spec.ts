// file store on a full disk (doc/architecture.md §8, §12): saves reject with StoreFullError and a reason, acked
// messages stay intact, and saves succeed again once space returns. A real 2 MiB tmpfs (needs root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFileStore } from '../store/file';
import type { MessageStore, StoredMessage } from '../store/contract';
import { StoreFullError } from '../store/errors';
import { aMessage } from './support/messages';

describe('file store disk full - a 2 MiB tmpfs', function () {
  this.timeout(30_000);
  let mountPoint: string;
  let store: MessageStore;
  const dir = () => path.join(mountPoint, 'store');
  const open = async () => {
    store = openFileStore(`file://${dir()}?segmentBytes=262144`, { serverName: '127.0.0.1:13800' });
    await store.start();
  };

  before(() => {
    mountPoint = mkdtempSync(path.join(tmpdir(), 'kiteq-file-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
  });
  afterEach(async () => {
    await store.stop();
    await fs.rm(dir(), { recursive: true, force: true });
  });
  after(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  /** saves 4 KiB messages (8 in flight) until one is refused; returns the acked ones and the refusal */
  async function fillUp(): Promise<{ acked: StoredMessage[]; refusal: unknown }> {
    const acked: StoredMessage[] = [];
    for (let round = 0; round < 1000; round++) {
      const batch = Array.from({ length: 8 }, () => aMessage({}, `${round} `.padEnd(4096, 'x')));
      const results = await Promise.allSettled(batch.map((m) => store.save(m)));
      results.forEach((r, i) => r.status === 'fulfilled' && acked.push(batch[i]!));
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (refused) return { acked, refusal: refused.reason };
    }
    throw new Error('a 2 MiB tmpfs never filled up');
  }

  it('refuses saves with StoreFullError, keeps what was acked, and saves again once space returns', async () => {
    await open();
    const { acked, refusal } = await fillUp();
    assert.ok(refusal instanceof StoreFullError, `expected StoreFullError, got ${refusal}`);
    assert.match(refusal.message, /disk full \(ENOSPC\)/);
    assert.ok(acked.length > 100, `only ${acked.length} saves fitted`);

    await store.stop();
    await open();
    for (const message of acked) assert.equal((await store.get(message.header.messageId))?.body, message.body);

    // space returns as deliveries finish messages: finished segments are deleted
    for (const message of acked.slice(0, Math.floor(acked.length * 0.8))) await store.delete(message.header.messageId);
    const fresh = aMessage({}, 'after space returned');
    await eventuallySaved(store, fresh);
    await store.stop();
    await open();
    assert.equal((await store.get(fresh.header.messageId))?.body, 'after space returned');
    for (const message of acked.slice(Math.floor(acked.length * 0.8))) {
      assert.equal((await store.get(message.header.messageId))?.body, message.body);
    }
  });

  it('still finishes messages on a full disk, and saves again once a filler file is removed', async () => {
    await open();
    const kept = aMessage({}, 'acked before the disk filled');
    const finished = aMessage({}, 'finished while the disk is full');
    await store.saveBatch([kept, finished]);
    const filler = path.join(mountPoint, 'filler');
    await fs.writeFile(filler, Buffer.alloc(0));
    // fill what is left with the filler
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (;;) {
      try {
        await fs.appendFile(filler, chunk);
      } catch {
        break;
      }
    }
    // The write that finds the disk full frees the store's reserve (it may itself get through);
    // from then on new messages are refused, but the records that finish messages still fit.
    await store.save(aMessage({}, 'z'.repeat(70_000))).catch(() => undefined);
    await assert.rejects(
      store.save(aMessage({}, 'z'.repeat(70_000))),
      (error: Error) => error instanceof StoreFullError && /disk full/.test(error.message),
    );
    await store.recordDelivery(finished.header.messageId, {
      succGroups: ['s-mc'],
      failGroups: [],
      deliverCount: 1,
      nextDeliverTime: 0,
    });
    await store.delete(finished.header.messageId);
    assert.equal(await store.get(finished.header.messageId), undefined);
    await fs.rm(filler);
    const fresh = aMessage({}, 'z'.repeat(70_000));
    await eventuallySaved(store, fresh);
    await store.stop();
    await open();
    assert.equal((await store.get(fresh.header.messageId))?.body, fresh.body);
    assert.equal((await store.get(kept.header.messageId))?.body, kept.body);
    assert.equal(await store.get(finished.header.messageId), undefined);
  });
});

/** Reclaim deletes segments in the background after deletes: retry the save until it fits (5 s). */
async function eventuallySaved(store: MessageStore, message: StoredMessage): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await store.save(message);
    } catch (error) {
      if (!(error instanceof StoreFullError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
