// file store URIs and the directory lock (doc/architecture.md §8; doc/file-store.md).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFileStore } from '../store/file';
import { parseFileStoreUri } from '../store/file/uri';
import { aMessage } from './support/messages';

describe('file store open - URIs and the lock', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads absolute and relative URIs with their options', () => {
    const absolute = parseFileStoreUri(
      'file:///var/lib/kiteq?fsync=interval&ms=50&segmentBytes=1048576&cacheBytes=1000',
    );
    assert.deepEqual(absolute, {
      dir: '/var/lib/kiteq',
      fsync: 'interval',
      intervalMs: 50,
      segmentBytes: 1048576,
      cacheBytes: 1000,
      compactBelow: 0.25,
      reserveBytes: 1048576,
    });
    assert.equal(parseFileStoreUri('file:///x').reserveBytes, 16 * 1024 * 1024);
    assert.equal(parseFileStoreUri('file:///x?reserveBytes=0').reserveBytes, 0);
    assert.equal(parseFileStoreUri('file://./data').dir, path.resolve('data'));
    assert.equal(parseFileStoreUri('file:///x').fsync, 'batch');
    assert.throws(() => parseFileStoreUri('file:///x?fsync=never'), /fsync=never/);
  });

  it('creates the directory and refuses a second store on it until the first stops', async () => {
    const storeDir = path.join(dir, 'nested', 'store');
    const first = openFileStore(`file://${storeDir}`, { serverName: 'a:1' });
    await first.start();
    const second = openFileStore(`file://${storeDir}`, { serverName: 'b:1' });
    await assert.rejects(second.start(), /locked by process \d+/);
    await first.stop();
    const third = openFileStore(`file://${storeDir}`, { serverName: 'b:1' });
    await third.start();
    await third.stop();
  });

  for (const fsync of ['always', 'interval']) {
    it(`keeps saves and state with fsync=${fsync}`, async () => {
      const uri = `file://${dir}?fsync=${fsync}&ms=5`;
      let store = openFileStore(uri, { serverName: 'a:1' });
      await store.start();
      const messages = Array.from({ length: 30 }, (_, i) => aMessage({}, `m${i}`));
      await Promise.all(messages.map((m) => store.save(m)));
      await store.recordDelivery(messages[0]!.header.messageId, {
        succGroups: ['g'],
        failGroups: [],
        deliverCount: 1,
        nextDeliverTime: 5,
      });
      await store.stop();
      store = openFileStore(uri, { serverName: 'a:1' });
      await store.start();
      for (const m of messages) assert.equal((await store.get(m.header.messageId))?.body, m.body);
      assert.deepEqual((await store.get(messages[0]!.header.messageId))?.succGroups, ['g']);
      await store.stop();
    });
  }

  it('rejects calls on a stopped store instead of throwing', async () => {
    const store = openFileStore(`file://${dir}`, { serverName: 'a:1' });
    await store.start();
    await store.stop();
    await assert.rejects(store.save(aMessage()), /not open/);
    await assert.rejects(store.delete('x'), /not open/);
  });
});
