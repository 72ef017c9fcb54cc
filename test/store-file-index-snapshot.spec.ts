// doc/file-store.md "Recovery": a clean stop writes the index (store/file/index-snapshot.ts), and the
// next start loads it instead of replaying the segments, to exactly the state replay would build.
// A snapshot that no longer matches the segments (a write since, a crash, a byte changed in place)
// is not used.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageStore } from '../store/contract';
import { type FileStore, openFileStore } from '../store/file';
import { tempDir } from './support/broker';
import { aMessage } from './support/messages';

const open = async (dir: string): Promise<FileStore> => {
  const store = openFileStore(`file://${dir}?segmentBytes=65536`, { serverName: '127.0.0.1:13800' }) as FileStore;
  await store.start();
  return store;
};

/** everything a broker can see of a store */
async function contents(store: MessageStore) {
  const all = { dueBy: Number.MAX_SAFE_INTEGER, limit: 100_000 };
  return {
    committed: await store.pageDue({ ...all, committed: true }),
    prepared: await store.pageDue({ ...all, committed: false }),
    dead: await store.listDeadLetters({ limit: 100_000 }),
    counts: await store.countsByTopic(),
  };
}

describe('file store - index snapshot of a clean stop', function () {
  this.timeout(30_000);
  let dir: string;
  const stores: FileStore[] = [];
  const track = (store: FileStore) => (stores.push(store), store);

  beforeEach(() => (dir = tempDir('kiteq-file-snapshot-')));
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 3,000 messages over several segments in every state a store keeps */
  async function fill(store: FileStore): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const messages = Array.from({ length: 3_000 }, (_, i) =>
      aMessage({ topic: i % 3 === 0 ? 'trade' : 'user-profile', commit: i % 10 !== 0, createTime: now - (i % 50) }),
    );
    await store.saveBatch(messages);
    await Promise.all(
      messages.map((m, i) => {
        const id = m.header.messageId;
        if (i % 10 === 0) return i % 20 === 0 ? store.commit(id) : store.recordCheck(id, 2, now + 30);
        if (i % 7 === 0) return store.delete(id);
        if (i % 11 === 0) return store.deadLetter(id, `deliverLimit 3 reached; failed groups: s-${i % 4}`);
        if (i % 2 === 0) {
          return store.recordDelivery(id, {
            succGroups: i % 4 === 0 ? ['s-on'] : [],
            failGroups: i % 6 === 0 ? ['s-risk'] : [],
            deliverCount: i % 5,
            nextDeliverTime: now + 3600 + (i % 13),
          });
        }
        return undefined;
      }),
    );
  }

  it('starts from the snapshot with no record replayed, to the state replay builds', async () => {
    const store = await open(join(dir, 'a'));
    await fill(store);
    await store.stop();
    assert.ok(existsSync(join(dir, 'a', 'INDEX')), 'a clean stop writes the snapshot');
    cpSync(join(dir, 'a'), join(dir, 'b'), { recursive: true });
    rmSync(join(dir, 'b', 'INDEX'));

    const fromSnapshot = track(await open(join(dir, 'a')));
    const replayed = track(await open(join(dir, 'b')));
    assert.equal(fromSnapshot.recovery!.snapshot, true);
    assert.equal(fromSnapshot.recovery!.records, 0, 'records replayed');
    assert.equal(replayed.recovery!.snapshot, false);
    assert.ok(replayed.recovery!.records > 3_000);
    assert.ok(!existsSync(join(dir, 'a', 'INDEX')), 'used once: a start deletes it');
    assert.deepEqual(await contents(fromSnapshot), await contents(replayed));
    assert.deepEqual(fromSnapshot.stats().segments, replayed.stats().segments);
    assert.equal(fromSnapshot.stats().liveBytes, replayed.stats().liveBytes);

    // and it keeps working: the same changes give the same state
    const [first] = (await contents(fromSnapshot)).committed;
    for (const store of [fromSnapshot, replayed]) {
      await store.delete(first!.header.messageId);
      await store.save(aMessage({ messageId: 'after-the-snapshot-0000000000001' }));
    }
    assert.deepEqual(await contents(fromSnapshot), await contents(replayed));
  });

  it('replays when the segments changed after the snapshot: a later write, a crash, a byte changed in place', async () => {
    const store = await open(dir);
    await fill(store);
    await store.stop();
    const stale = readFileSync(join(dir, 'INDEX'));

    // a later run wrote records (its own snapshot is replaced by the older one: an unlink a crash undid)
    const later = await open(dir);
    await later.save(aMessage({ messageId: 'written-after-the-snapshot-00001' }));
    await later.stop();
    writeFileSync(join(dir, 'INDEX'), stale);
    const reopened = track(await open(dir));
    assert.equal(reopened.recovery!.snapshot, false);
    assert.ok(await reopened.get('written-after-the-snapshot-00001'));
    await reopened.stop();
    stores.splice(0);

    // a crash: the start deleted the snapshot, nothing wrote a new one
    const crashed = await open(dir);
    cpSync(dir, join(dir, '..', `${dir.split('/').pop()}-copy`), { recursive: true });
    await crashed.stop();
    const copy = join(dir, '..', `${dir.split('/').pop()}-copy`);
    rmSync(join(copy, 'LOCK'));
    const afterCrash = track(await open(copy));
    assert.equal(afterCrash.recovery!.snapshot, false);
    await afterCrash.stop();
    stores.splice(0);
    rmSync(copy, { recursive: true, force: true });

    // a byte of a record changed in place (same size): replay finds the damage
    const segment = join(dir, 'seg-0000000001.log');
    const bytes = readFileSync(segment);
    bytes[200] ^= 0xff;
    await new Promise((resolve) => setTimeout(resolve, 20)); // a later modification time than the stop's
    writeFileSync(segment, bytes);
    const damaged = track(await open(dir));
    assert.equal(damaged.recovery!.snapshot, false);
    assert.equal(damaged.recovery!.damagedRanges, 1);
  });

  it('replays when the snapshot itself is damaged or cut short', async () => {
    const store = await open(dir);
    await fill(store);
    await store.stop();
    const breakings = [
      (good: Buffer) => Buffer.concat([good.subarray(0, 5000), Buffer.from([good[5000]! ^ 1]), good.subarray(5001)]),
      (good: Buffer) => good.subarray(0, good.length - 100),
      (good: Buffer) => good.subarray(0, 10),
    ];
    for (const breaking of breakings) {
      // each stop writes a snapshot of its own segments: break that one
      writeFileSync(join(dir, 'INDEX'), breaking(readFileSync(join(dir, 'INDEX'))));
      const reopened = await open(dir);
      assert.equal(reopened.recovery!.snapshot, false);
      assert.ok(reopened.recovery!.records > 3_000);
      assert.equal((await contents(reopened)).committed.length > 0, true);
      await reopened.stop();
    }
  });

  it('keeps values past 16 bits and fractional times through a snapshot, and replays one of another version', async () => {
    const a = join(dir, 'a');
    const store = await open(a);
    await fill(store);
    const now = Math.floor(Date.now() / 1000);
    const wide = aMessage({ messageId: 'wide-values-00000000000000000001', commit: true });
    await store.save(wide);
    // deliverCount past 16 bits, a fractional due time: those columns widen to 32 bits and float64
    await store.recordDelivery(wide.header.messageId, {
      succGroups: [],
      failGroups: ['s-risk'],
      deliverCount: 70_000,
      nextDeliverTime: now + 0.5,
    });
    await store.stop();
    cpSync(a, join(dir, 'b'), { recursive: true });
    rmSync(join(dir, 'b', 'INDEX'));
    cpSync(a, join(dir, 'c'), { recursive: true });
    const index = readFileSync(join(dir, 'c', 'INDEX'));
    index.writeUInt32LE(index.readUInt32LE(4) - 1, 4); // the version before
    writeFileSync(join(dir, 'c', 'INDEX'), index);

    const fromSnapshot = track(await open(a));
    const replayed = track(await open(join(dir, 'b')));
    const otherVersion = track(await open(join(dir, 'c')));
    assert.equal(fromSnapshot.recovery!.snapshot, true);
    assert.equal(otherVersion.recovery!.snapshot, false, 'a snapshot of another version is not used');
    assert.ok(otherVersion.recovery!.records > 3_000);
    const got = await fromSnapshot.get(wide.header.messageId);
    assert.equal(got!.deliverCount, 70_000);
    assert.equal(got!.nextDeliverTime, now + 0.5);
    assert.deepEqual(got!.failGroups, ['s-risk']);
    assert.deepEqual(await contents(fromSnapshot), await contents(replayed));
    assert.deepEqual(await contents(otherVersion), await contents(replayed));
  });
});
