// file store recovery (doc/file-store.md "Recovery"): damage costs only the records it touches. A torn
// tail of the last segment is cut, everything before it kept; damage followed by intact records is
// skipped and replay goes on; a closed segment is never cut; the damaged bytes are kept in damaged/.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, promises as fs, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { FileStore, openFileStore } from '../store/file';
import type { MessageStore, StoredMessage } from '../store/contract';
import { aMessage } from './support/messages';
import {
  flipByte,
  readBytes,
  recordAtOrAfter,
  recordsIn,
  type SegmentRecord,
  segmentFiles,
  writeBytes,
} from './support/segments';

function capturingLogger(lines: string[]) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

/** the files in <dir>/damaged/, by name */
function damagedCopies(dir: string): Map<string, Buffer> {
  const into = path.join(dir, 'damaged');
  if (!existsSync(into)) return new Map();
  return new Map(readdirSync(into).map((name) => [name, readFileSync(path.join(into, name))]));
}

function copyName(segment: number, offset: number): string {
  return `seg-${String(segment).padStart(10, '0')}-${offset}.bin`;
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
    await store.recordDelivery(saved[3]!.header.messageId, {
      succGroups: ['a'],
      failGroups: ['b'],
      deliverCount: 2,
      nextDeliverTime: 7,
    });
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

  it('keeps every earlier record when the last one is torn mid-record, and its bytes in damaged/', async () => {
    let torn = Buffer.alloc(0);
    let offset = 0;
    const last = await damageLastRecord(async (file) => {
      const records = recordsIn(file);
      offset = records[records.length - 1]!.offset;
      await tear(file);
      torn = readFileSync(file).subarray(offset);
    });
    assert.match(logLines.join(''), /torn record at offset \d+; truncating \d+ bytes/);
    assert.equal(statSync(await onlySegment(dir)).size, offset, 'the torn tail of the last segment is cut');
    assert.deepEqual([...damagedCopies(dir)], [[copyName(1, offset), torn]]);
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
    assert.equal(damagedCopies(dir).size, 0);
    for (const message of saved) assert.equal((await store.get(message.header.messageId))?.body, message.body);
    const fresh = aMessage({}, 'written over the zeros');
    await store.save(fresh);
    await store.stop();
    assert.ok((await fs.stat(file)).size > size, 'the new record follows the old ones');
    await open();
    assert.equal((await store.get(fresh.header.messageId))?.body, 'written over the zeros');
    assert.deepEqual((await store.get(saved[3]!.header.messageId))?.failGroups, ['b']);
  });

  it('still cuts a torn record that zeros follow, and keeps its bytes without the zeros', async () => {
    let torn = Buffer.alloc(0);
    const last = await damageLastRecord(async (file) => {
      await tear(file);
      const records = recordsIn(file);
      torn = readFileSync(file).subarray(records[records.length - 1]!.offset + records[records.length - 1]!.length);
      await fs.appendFile(file, Buffer.alloc(64 * 1024)); // the record's end never reached the disk
    });
    assert.match(logLines.join(''), /(torn|corrupt) record at offset \d+; truncating \d+ bytes/);
    assert.deepEqual([...damagedCopies(dir).values()], [torn]);
    await assertKeptAllBut(last);
  });
});

describe('file store recovery - damage before intact records costs only what it touches', function () {
  this.timeout(30_000);
  let dir: string;
  let store: FileStore;
  let saved: StoredMessage[];
  const logLines: string[] = [];
  const open = async (uri = '') => {
    store = openFileStore(`file://${dir}${uri}`, {
      serverName: '127.0.0.1:13800',
      logger: capturingLogger(logLines),
    }) as FileStore;
    await store.start();
  };
  /** 300 messages; every 10th has a delivery result (a STATE record after its MESSAGE record) */
  const fill = async (uri = '', bodyBytes = 200) => {
    await open(uri);
    saved = Array.from({ length: 300 }, (_, i) => aMessage({}, `message ${i} `.padEnd(bodyBytes, '.')));
    for (const [i, message] of saved.entries()) {
      await store.save(message);
      if (i % 10 === 3)
        await store.recordDelivery(message.header.messageId, {
          succGroups: ['a'],
          failGroups: ['b'],
          deliverCount: 1,
          nextDeliverTime: 7,
        });
    }
    await store.stop();
    logLines.length = 0;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-damage-'));
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** every saved message is there with its body, except `lost`; then it takes work that survives a reopen */
  async function assertAllBut(lost: string[], uri = '') {
    const missing: string[] = [];
    for (const message of saved) {
      const stored = await store.get(message.header.messageId);
      if (stored === undefined) missing.push(message.header.messageId);
      else assert.equal(stored.body, message.body);
    }
    assert.deepEqual(missing, lost);
    const fresh = aMessage({}, 'after the damage');
    await store.save(fresh);
    await store.stop();
    await open(uri);
    assert.equal((await store.get(fresh.header.messageId))?.body, 'after the damage');
    assert.equal((await store.get(saved[299]!.header.messageId))?.body, saved[299]!.body);
  }

  /** the MESSAGE records among `records` lose their messages; a STATE record only its state */
  const messagesOf = (records: SegmentRecord[]) => records.filter((r) => r.type === 'message').map((r) => r.id);

  it('a flipped byte in a message payload, good records after it in the last segment: that message only is lost, its bytes kept', async () => {
    await fill();
    const file = segmentFiles(dir)[0]!;
    const size = statSync(file).size;
    const hit = recordAtOrAfter(file, Math.floor(size / 3), 'message');
    flipByte(file, hit.offset + hit.length - 20);
    const damaged = readBytes(file, hit.offset, hit.length);
    await open();
    assert.match(
      logLines.join(''),
      new RegExp(`${hit.length} damaged bytes at offset ${hit.offset} \\(corrupt record, skipped\\)`),
    );
    assert.deepEqual([...damagedCopies(dir)], [[copyName(1, hit.offset), damaged]]);
    assert.deepEqual(store.damageStats(), { ranges: 1, bytes: hit.length });
    assert.equal(statSync(file).size, size, 'nothing is cut');
    await assertAllBut([hit.id]);
    assert.equal(store.damageStats().ranges, 1, 'found again at the next start, copied once');
    assert.equal(damagedCopies(dir).size, 1);
  });

  it('a flipped byte in a length field: replay resynchronises on the next intact record', async () => {
    await fill();
    const file = segmentFiles(dir)[0]!;
    const hit = recordAtOrAfter(file, Math.floor(statSync(file).size / 3), 'message');
    flipByte(file, hit.offset + 1, 0x01); // the length is now 256 bytes off
    await open();
    assert.match(
      logLines.join(''),
      new RegExp(`${hit.length} damaged bytes at offset ${hit.offset} \\(corrupt record, resynchronised\\)`),
    );
    assert.deepEqual([...damagedCopies(dir).keys()], [copyName(1, hit.offset)]);
    await assertAllBut([hit.id]);
  });

  it('64 zeroed bytes lose only the records they overlap', async () => {
    await fill();
    const file = segmentFiles(dir)[0]!;
    const at = recordAtOrAfter(file, Math.floor(statSync(file).size / 2), 'message').offset - 30;
    const touched = recordsIn(file).filter((r) => r.offset < at + 64 && r.offset + r.length > at);
    assert.equal(touched.length, 2);
    writeBytes(file, at, Buffer.alloc(64));
    await open();
    const range = touched[touched.length - 1]!.offset + touched[touched.length - 1]!.length - touched[0]!.offset;
    assert.deepEqual(store.damageStats(), { ranges: 1, bytes: range });
    assert.equal(damagedCopies(dir).get(copyName(1, touched[0]!.offset))?.length, range);
    await assertAllBut(messagesOf(touched));
  });

  it('a damaged STATE record costs the state only: the message comes back with its older state and is delivered again', async () => {
    await fill();
    const file = segmentFiles(dir)[0]!;
    const hit = recordAtOrAfter(file, Math.floor(statSync(file).size / 3), 'state');
    flipByte(file, hit.offset + hit.length - 3);
    await open();
    const message = await store.get(hit.id);
    assert.deepEqual(
      [message?.succGroups, message?.deliverCount],
      [[], 0],
      'back to the state its MESSAGE record holds: due for every group',
    );
    await assertAllBut([]);
  });

  it('damage in closed segments is skipped, and a closed segment is never cut, not even its damaged tail', async () => {
    const uri = '?segmentBytes=65536';
    await fill(uri, 1000);
    const files = segmentFiles(dir);
    assert.ok(files.length >= 4, `several segments (${files.length})`);
    const sizes = files.map((f) => statSync(f).size);
    const middle = recordAtOrAfter(files[0]!, Math.floor(sizes[0]! / 2), 'message');
    flipByte(files[0]!, middle.offset + middle.length - 20);
    const records1 = recordsIn(files[1]!);
    const tail = records1[records1.length - 1]!;
    flipByte(files[1]!, tail.offset + tail.length - 20);
    await open(uri);
    assert.match(
      logLines.join(''),
      /closed segment 2 has a corrupt record at offset \d+ and nothing intact after it; keeping/,
    );
    assert.deepEqual([...damagedCopies(dir).keys()].sort(), [copyName(1, middle.offset), copyName(2, tail.offset)]);
    const lost = new Set(messagesOf([middle, tail]));
    await assertAllBut(
      saved.map((m) => m.header.messageId).filter((id) => lost.has(id)),
      uri,
    );
    await store.stop();
    assert.deepEqual(
      files.slice(0, -1).map((f) => statSync(f).size),
      sizes.slice(0, -1),
      'closed segments keep every byte',
    );
  });
});
