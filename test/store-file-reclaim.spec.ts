// file store reclaim (doc/architecture.md §8, §12): finished segments are deleted, and the few live messages of a
// mostly finished segment are moved forward so they cannot pin it.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStore, openFileStore } from '../store/file';
import { SHRINK_STEP_BYTES } from '../store/file/segment-files';
import type { MessageStore, StoredMessage } from '../store/contract';
import { aMessage } from './support/messages';
import { eventually } from './support/events';

const URI_OPTIONS = 'segmentBytes=1048576';

/** The segment files now; one the reclaimer unlinks between the listing and its stat is gone, not an error. */
async function segmentFiles(dir: string): Promise<{ count: number; bytes: number }> {
  const names = (await fs.readdir(dir)).filter((n) => n.startsWith('seg-'));
  const sizes = await Promise.all(
    names.map((n) =>
      fs.stat(path.join(dir, n)).then(
        (stat) => stat.size,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        },
      ),
    ),
  );
  const present = sizes.filter((size): size is number => size !== undefined);
  return { count: present.length, bytes: present.reduce((a, b) => a + b, 0) };
}

/** Reclaim runs in the background after each batch: wait until the directory settles. */
async function settled(dir: string, atMost: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await segmentFiles(dir);
    if (count <= atMost || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('file store reclaim - segments of finished messages', function () {
  this.timeout(120_000);
  let dir: string;
  let store: MessageStore;
  const open = async () => {
    store = openFileStore(`file://${dir}?${URI_OPTIONS}`, { serverName: '127.0.0.1:13800' });
    await store.start();
  };
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-reclaim-'));
    await open();
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns to a few segments after 200,000 messages are saved and deleted', async () => {
    const total = 200_000;
    const ids: string[] = [];
    for (let i = 0; i < total; i += 500) {
      const batch = Array.from({ length: 500 }, () => aMessage({}, 'small body'));
      await store.saveBatch(batch);
      ids.push(...batch.map((m) => m.header.messageId));
    }
    const full = await segmentFiles(dir);
    assert.ok(full.count > 30, `expected many 1 MiB segments, found ${full.count}`);
    for (let i = 0; i < ids.length; i += 250) await Promise.all(ids.slice(i, i + 250).map((id) => store.delete(id)));
    const left = await settled(dir, 3);
    const { bytes } = await segmentFiles(dir);
    assert.ok(left <= 3, `${left} segments (${bytes} bytes) left of ${full.count} (${full.bytes} bytes)`);
    assert.deepEqual(await store.countsByTopic(), {});
  });

  it('moves the few live messages of a mostly finished segment forward, with their state', async () => {
    const messages: StoredMessage[] = [];
    for (let i = 0; i < 3000; i++) messages.push(aMessage({ commit: i % 2 === 0 }, `body ${i} `.padEnd(1000, '#')));
    for (let i = 0; i < messages.length; i += 100) await store.saveBatch(messages.slice(i, i + 100));
    const survivors = [messages[10]!, messages[11]!, messages[500]!, messages[1200]!];
    await store.recordDelivery(survivors[0]!.header.messageId, {
      succGroups: ['s-a'],
      failGroups: ['s-b'],
      deliverCount: 3,
      nextDeliverTime: 42,
    });
    await store.deadLetter(survivors[1]!.header.messageId, 'expired');
    await store.recordCheck(survivors[2]!.header.messageId, 4, 99);
    const survivorIds = new Set(survivors.map((m) => m.header.messageId));
    const before = await Promise.all(survivors.map((m) => store.get(m.header.messageId)));
    await Promise.all(
      messages.filter((m) => !survivorIds.has(m.header.messageId)).map((m) => store.delete(m.header.messageId)),
    );
    // roll the active segment forward so every segment holding a survivor can be compacted
    for (let i = 0; i < 3; i++) {
      const filler = Array.from({ length: 100 }, () => aMessage({}, 'f'.repeat(4000)));
      await store.saveBatch(filler);
      await Promise.all(filler.map((m) => store.delete(m.header.messageId)));
    }
    const left = await settled(dir, 2);
    assert.ok(left <= 2, `${left} segments left: a survivor pins its segment`);
    // the store forgets a segment after its file is unlinked and the directory fsynced
    await eventually(
      () => (store as FileStore).stats().bytes < 1024 * 1024 * 2,
      10_000,
      'the store to count under 2 MiB of segments',
    );

    await store.stop();
    await open();
    const after = await Promise.all(survivors.map((m) => store.get(m.header.messageId)));
    assert.deepEqual(after, before);
    assert.equal((await store.listDeadLetters({ limit: 10 }))[0]?.reason, 'expired');
  });
});

describe('file store reclaim - removing a segment larger than a shrink step', function () {
  this.timeout(60_000);
  let dir: string;
  let store: MessageStore | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-remove-'));
  });
  afterEach(async () => {
    await store?.stop();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (options: string) => {
    store = openFileStore(`file://${dir}?${options}`, { serverName: '127.0.0.1:13800' });
    await store.start();
    return store;
  };

  it('cuts a finished 9 MiB segment step by step and unlinks it, leaving no .removing file', async () => {
    const s = await open(`segmentBytes=${9 * 1024 * 1024}`);
    const messages = Array.from({ length: 10_000 }, (_, i) => aMessage({}, `body ${i} `.padEnd(1000, '#')));
    for (let i = 0; i < messages.length; i += 500) await s.saveBatch(messages.slice(i, i + 500));
    const full = await segmentFiles(dir);
    assert.ok(
      full.count >= 2 && full.bytes > SHRINK_STEP_BYTES * 2,
      `a segment over two shrink steps was written (${full.count} files, ${full.bytes} bytes)`,
    );
    for (let i = 0; i < messages.length; i += 500)
      await Promise.all(messages.slice(i, i + 500).map((m) => s.delete(m.header.messageId)));
    await eventually(async () => (await segmentFiles(dir)).count <= 1, 20_000, 'the finished segments removed');
    assert.deepEqual(
      (await fs.readdir(dir)).filter((n) => n.endsWith('.removing')),
      [],
    );
  });

  it('finishes on the next start a removal that a stop interrupted, and keeps every message', async () => {
    let s = await open('');
    const kept = Array.from({ length: 20 }, (_, i) => aMessage({}, `kept ${i}`));
    await s.saveBatch(kept);
    await s.stop();
    store = undefined;
    // a crash after the rename, mid-way through the cuts: a big half-removed file of an old segment
    const doomed = path.join(dir, 'seg-0000000000.log.removing');
    await fs.writeFile(doomed, Buffer.alloc(SHRINK_STEP_BYTES * 2 + 12345, 0x5a));
    s = await open('');
    await assert.rejects(fs.stat(doomed), { code: 'ENOENT' });
    const back = await Promise.all(kept.map((m) => s.get(m.header.messageId)));
    assert.deepEqual(
      back.map((m) => m?.body.toString()),
      kept.map((m) => m.body.toString()),
    );
  });
});

describe('file store reclaim - compaction holds a bounded share of a segment in memory', function () {
  this.timeout(120_000);
  let dir: string;
  let store: FileStore;
  const open = async () => {
    store = openFileStore(`file://${dir}?segmentBytes=${16 * 1024 * 1024}`, {
      serverName: '127.0.0.1:13800',
    }) as FileStore;
    await store.start();
  };
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-compact-'));
    await open();
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the 3 MiB left in a 15 MiB segment a range at a time, each written before the next is read', async () => {
    interface Op {
      kind: string;
      immutable?: Buffer;
      resolve: (v: boolean) => void;
      reject: (e: Error) => void;
    }
    const writer = (store as unknown as { writer: { submit(ops: Op[], lazy?: boolean): void } }).writer;
    const submit = writer.submit.bind(writer);
    let outstanding = 0;
    let peak = 0;
    let copied = 0;
    writer.submit = (ops, lazy) => {
      for (const op of ops) {
        if (op.kind !== 'copy') continue;
        const bytes = op.immutable!.length;
        outstanding += bytes;
        copied += bytes;
        peak = Math.max(peak, outstanding);
        const { resolve, reject } = op;
        op.resolve = (v) => {
          outstanding -= bytes;
          resolve(v);
        };
        op.reject = (e) => {
          outstanding -= bytes;
          reject(e);
        };
      }
      submit(ops, lazy);
    };
    const body = (i: number) => Buffer.alloc(64 * 1024, i % 251);
    const messages = Array.from({ length: 240 }, (_, i) => aMessage({}, body(i)));
    for (let i = 0; i < messages.length; i += 20) await store.saveBatch(messages.slice(i, i + 20));
    const survivors = messages.filter((_, i) => i % 5 === 0);
    await Promise.all(messages.filter((_, i) => i % 5 !== 0).map((m) => store.delete(m.header.messageId)));
    // roll the active segment forward so the sparse one can be compacted
    const filler = Array.from({ length: 270 }, () => aMessage({}, Buffer.alloc(64 * 1024)));
    for (let i = 0; i < filler.length; i += 30) await store.saveBatch(filler.slice(i, i + 30));
    await Promise.all(filler.map((m) => store.delete(m.header.messageId)));
    await eventually(() => copied >= survivors.length * 64 * 1024, 30_000, 'the survivors to be copied forward');

    assert.ok(peak <= 1024 * 1024 + 70 * 1024, `${peak} bytes of copies outstanding at once (1 MiB ranges)`);
    await store.stop();
    await open();
    for (const m of survivors) assert.deepEqual((await store.get(m.header.messageId))?.body, m.body);
  });
});
