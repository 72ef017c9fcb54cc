// file store recovery (design §8): a torn or corrupt tail is cut, everything before it is kept.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { openFileStore } from '../store/file';
import type { MessageStore, StoredMessage } from '../store/contract';
import { aMessage } from './support/messages';

function capturingLogger(lines: string[]) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

async function onlySegment(dir: string): Promise<string> {
  const names = (await fs.readdir(dir)).filter((n) => n.startsWith('seg-'));
  assert.equal(names.length, 1);
  return path.join(dir, names[0]!);
}

describe('file store recovery - damaged tail', function () {
  this.timeout(20_000);
  let dir: string;
  let store: MessageStore;
  let saved: StoredMessage[];
  const logLines: string[] = [];
  const open = async () => {
    store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800', logger: capturingLogger(logLines) });
    await store.start();
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-recovery-'));
    logLines.length = 0;
    await open();
    saved = Array.from({ length: 20 }, (_, i) => aMessage({}, `message ${i}`));
    for (const message of saved) await store.save(message);
    await store.recordDelivery(saved[3]!.header.messageId, { succGroups: ['a'], failGroups: ['b'], deliverCount: 2, nextDeliverTime: 7 });
    await store.stop();
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function assertKeptAllBut(last: StoredMessage) {
    for (const message of saved.slice(0, -1)) {
      const stored = await store.get(message.header.messageId);
      assert.equal(stored?.body, message.body);
    }
    assert.deepEqual((await store.get(saved[3]!.header.messageId))?.failGroups, ['b']);
    assert.equal(await store.get(last.header.messageId), undefined);
    // and it keeps taking work, which survives another reopen
    const fresh = aMessage({}, 'after the damage');
    await store.save(fresh);
    await store.stop();
    await open();
    assert.equal((await store.get(fresh.header.messageId))?.body, 'after the damage');
    assert.equal((await store.get(saved[0]!.header.messageId))?.body, 'message 0');
  }

  /** Saves one more message (its record is last), damages the segment's end, and reopens. */
  async function damageLastRecord(damage: (file: string) => Promise<void>): Promise<StoredMessage> {
    await open();
    const last = aMessage({}, 'x'.repeat(300));
    await store.save(last);
    await store.stop();
    saved.push(last);
    await damage(await onlySegment(dir));
    await open();
    return last;
  }

  const tear = async (file: string) => fs.truncate(file, (await fs.stat(file)).size - 150);

  it('keeps every earlier record when the last one is torn mid-record', async () => {
    const last = await damageLastRecord(tear);
    assert.match(logLines.join(''), /torn record at offset \d+; truncating \d+ bytes/);
    await assertKeptAllBut(last);
  });

  it('keeps every earlier record when a byte of the last record is flipped', async () => {
    const last = await damageLastRecord(async (file) => {
      const bytes = await fs.readFile(file);
      bytes[bytes.length - 10] ^= 0xff;
      await fs.writeFile(file, bytes);
    });
    assert.match(logLines.join(''), /corrupt record .* truncating \d+ bytes/);
    await assertKeptAllBut(last);
  });

  // A crash leaves the zeros the store writes ahead of its records (preallocate.ts) in the file.
  it('treats zeros after the last record as the end, not as damage', async () => {
    const file = await onlySegment(dir);
    const { size } = await fs.stat(file);
    await fs.appendFile(file, Buffer.alloc(64 * 1024));
    await open();
    assert.doesNotMatch(logLines.join(''), /torn|corrupt|truncating/);
    for (const message of saved) assert.equal((await store.get(message.header.messageId))?.body, message.body);
    const fresh = aMessage({}, 'written over the zeros');
    await store.save(fresh);
    await store.stop();
    assert.ok((await fs.stat(file)).size > size, 'the new record follows the old ones');
    await open();
    assert.equal((await store.get(fresh.header.messageId))?.body, 'written over the zeros');
    assert.deepEqual((await store.get(saved[3]!.header.messageId))?.failGroups, ['b']);
  });

  it('still cuts a torn record that zeros follow', async () => {
    const last = await damageLastRecord(async (file) => {
      await tear(file);
      await fs.appendFile(file, Buffer.alloc(64 * 1024)); // the record's end never reached the disk
    });
    assert.match(logLines.join(''), /(torn|corrupt) record at offset \d+; truncating \d+ bytes/);
    await assertKeptAllBut(last);
  });
});
