// The file store's ids (store/file/id-table.ts; doc/file-store.md "Memory"): 32-hex-digit ids are packed
// as bytes, others kept as strings. Every lookup, deletion (backward shift) and comparison must give
// exactly what a Map of strings and JavaScript's string order give, through a reopen too (from the
// index snapshot and by replay); replay's lookup from a record's bytes (findBytes) too, and the due
// list's id prefix against string order.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type FileStore, openFileStore } from '../store/file';
import { IdTable, idPrefix, NOT_ASCII } from '../store/file/id-table';
import { seededRandom } from './fixtures/fault/harness';
import { tempDir } from './support/broker';
import { aMessage } from './support/messages';

/** deterministic, so a failure repeats */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const hexId = () => randomBytes(16).toString('hex');
/** ids that are not 32 lowercase hex digits, and ones next to the packed ones in string order */
function oddId(next: () => number, n: number): string {
  const hex = hexId();
  const kinds = [
    () => hex.toUpperCase(),
    () => hex.slice(0, 31),
    () => `${hex}0`,
    () => `${hex.slice(0, 31)}g`,
    () => `${hex.slice(0, 20)}é${n}`,
    () => `${hex.slice(0, 10)}\u{1F600}${n}`,
    () => `${n}`,
    () => `${hex.slice(0, 30)}-${n % 10}`,
  ];
  return kinds[Math.floor(next() * kinds.length)]!();
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('file store - id table', function () {
  this.timeout(60_000);

  it('finds, forgets and orders 200,000 ids added and removed at random exactly as a Map and string order do', () => {
    const next = random(24);
    const table = new IdTable();
    const model = new Map<string, number>();
    const freeSlots: number[] = [];
    let highWater = 0;
    let capacity = 0;
    const slotsInUse: number[] = [];
    for (let step = 0; step < 200_000; step++) {
      if (slotsInUse.length > 0 && next() < 0.45) {
        const at = Math.floor(next() * slotsInUse.length);
        const slot = slotsInUse[at]!;
        slotsInUse[at] = slotsInUse[slotsInUse.length - 1]!;
        slotsInUse.pop();
        model.delete(table.idOf(slot));
        table.delete(slot);
        freeSlots.push(slot);
      } else {
        let id = next() < 0.8 ? hexId() : oddId(next, step);
        if (model.has(id)) id = hexId();
        let slot = freeSlots.pop();
        if (slot === undefined) {
          slot = highWater++;
          if (slot >= capacity) table.grow((capacity = Math.max(64, capacity * 2)));
        }
        table.set(slot, id);
        model.set(id, slot);
        slotsInUse.push(slot);
      }
    }
    assert.equal(table.size, model.size);
    for (const [id, slot] of model) {
      assert.equal(table.find(id), slot, id);
      const bytes = Buffer.from(`xx${id}yy`);
      const found = table.findBytes(bytes, 2, bytes.length - 2);
      assert.equal(found, Buffer.byteLength(id) === id.length ? slot : NOT_ASCII, id);
      assert.equal(table.idOf(slot), id);
      assert.equal(table.prefix(slot), idPrefix(id), id);
      assert.ok(table.is(slot, id));
    }
    for (let i = 0; i < 2_000; i++) {
      const absent = i % 2 ? hexId() : oddId(next, -i);
      if (model.has(absent)) continue;
      assert.equal(table.find(absent), undefined, absent);
      const bytes = Buffer.from(absent);
      assert.ok([undefined, NOT_ASCII].includes(table.findBytes(bytes, 0, bytes.length)), absent);
    }
    for (const slot of freeSlots) assert.equal(table.idOf(slot), '');
    const entries = [...model];
    for (let i = 0; i < 20_000; i++) {
      const [a, slotA] = entries[Math.floor(next() * entries.length)]!;
      const [b, slotB] = entries[Math.floor(next() * entries.length)]!;
      assert.equal(sign(table.compare(slotA, slotB)), order(a, b), `${a} vs ${b}`);
      assert.equal(sign(table.compareTo(slotA, b)), order(a, b), `${a} vs "${b}"`);
      assert.equal(table.is(slotA, b), a === b);
    }
  });

  it('keeps ids that differ only in their last digit apart, and finds each after its neighbours leave', () => {
    const table = new IdTable();
    table.grow(4096);
    const prefix = hexId().slice(0, 29);
    const ids = Array.from({ length: 4096 }, (_, i) => prefix + i.toString(16).padStart(3, '0'));
    ids.forEach((id, slot) => table.set(slot, id));
    for (let slot = 0; slot < ids.length; slot += 2) table.delete(slot);
    ids.forEach((id, slot) => assert.equal(table.find(id), slot % 2 ? slot : undefined));
    assert.equal(table.size, 2048);
  });

  it('agrees with a Map through 200,000 random inserts, deletes and lookups, by string and by bytes', () => {
    const rand = seededRandom(29);
    const free: number[] = [];
    const model = new Map<string, number>();
    const table = new IdTable();
    let highWater = 0;
    let capacity = 0;
    // short ids from a small alphabet: many equal hashes' neighbours, long probe runs, deletes in them
    const someId = () => Math.floor(rand() * 30_000).toString(36);
    for (let step = 0; step < 200_000; step++) {
      const id = someId();
      const op = rand();
      if (op < 0.5 && !model.has(id)) {
        let slot = free.pop();
        if (slot === undefined) {
          slot = highWater++;
          if (slot >= capacity) table.grow((capacity = Math.max(64, capacity * 2)));
        }
        table.set(slot, id);
        model.set(id, slot);
      } else if (op < 0.8 && model.has(id)) {
        const slot = model.get(id)!;
        table.delete(slot);
        model.delete(id);
        free.push(slot);
      } else {
        assert.equal(table.find(id), model.get(id), `find(${id}) at step ${step}`);
        const bytes = Buffer.from(`xx${id}yy`);
        assert.equal(table.findBytes(bytes, 2, 2 + id.length), model.get(id), `findBytes(${id}) at step ${step}`);
      }
      assert.equal(table.size, model.size);
    }
    for (const [id, slot] of model) assert.equal(table.find(id), slot);
  });

  it('sends an id that is not ASCII back to be decoded, and finds it by string', () => {
    const table = new IdTable();
    table.grow(4);
    const packed = hexId();
    table.set(0, 'café-1');
    table.set(1, 'plain');
    table.set(2, packed);
    const bytes = Buffer.from('café-1');
    assert.equal(table.findBytes(bytes, 0, bytes.length), NOT_ASCII);
    assert.equal(table.find(bytes.toString('utf8')), 0);
    assert.equal(table.findBytes(Buffer.from('plain'), 0, 5), 1);
    assert.equal(table.findBytes(Buffer.from('plaim'), 0, 5), undefined);
    assert.equal(table.findBytes(Buffer.from(packed), 0, 32), 2);
    // the same digits in capitals are another id, kept as text
    assert.equal(table.findBytes(Buffer.from(packed.toUpperCase()), 0, 32), undefined);
  });

  it('saves and restores packed and text ids, renumbered, finding each again', () => {
    const table = new IdTable();
    table.grow(8);
    const ids = [hexId(), 'Z-1', hexId(), 'ü', hexId()];
    ids.forEach((id, slot) => table.set(slot, id));
    table.delete(1);
    const saved = table.save([4, 3, 0, 2]);
    const restored = new IdTable();
    restored.restore(saved, 16);
    [ids[4]!, ids[3]!, ids[0]!, ids[2]!].forEach((id, slot) => {
      assert.equal(restored.idOf(slot), id);
      assert.equal(restored.find(id), slot);
    });
    assert.equal(restored.find('Z-1'), undefined);
    assert.equal(restored.size, 4);
    restored.set(4, 'Z-1');
    assert.equal(restored.find('Z-1'), 4);
  });

  it('orders ids by prefix as their strings order, or calls them equal', () => {
    const rand = seededRandom(7);
    const units = [0, 1, 48, 57, 97, 102, 200, 255, 256, 1000, 0xffff];
    const some = () =>
      String.fromCharCode(
        ...Array.from({ length: Math.floor(rand() * 9) }, () => units[Math.floor(rand() * units.length)]!),
      );
    for (let i = 0; i < 50_000; i++) {
      const a = some();
      const b = some();
      const byPrefix = Math.sign(idPrefix(a) - idPrefix(b));
      const byString = a < b ? -1 : a > b ? 1 : 0;
      assert.ok(byPrefix === 0 || byPrefix === byString, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    assert.ok(idPrefix('0a41f3') < idPrefix('0a41f4'));
  });

  describe('in the store', () => {
    let dir: string;
    let store: FileStore;
    const open = async () => {
      store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' }) as FileStore;
      await store.start();
    };
    beforeEach(async () => {
      dir = tempDir('kiteq-file-ids-');
      await open();
    });
    afterEach(async () => {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const from of ['the index snapshot', 'replay'] as const) {
      it(`gets and pages in (time, id) order exactly the messages left of 20,000 with mixed ids, after a reopen from ${from}`, async () => {
        const now = Math.floor(Date.now() / 1000);
        const next = random(7);
        const messages = Array.from({ length: 20_000 }, (_, i) => {
          const message = aMessage({ messageId: i % 5 === 0 ? oddId(next, i) : hexId() });
          // few due times: most order is decided by id
          return { ...message, nextDeliverTime: now - 10 + (i % 3) };
        });
        for (let i = 0; i < messages.length; i += 1000) await store.saveBatch(messages.slice(i, i + 1000));
        const deleted = messages.filter((_, i) => i % 3 === 1);
        await Promise.all(deleted.map((m) => store.delete(m.header.messageId)));
        await store.stop();
        // index-snapshot.ts writes <dir>/INDEX at a clean stop; without it the start replays every record
        assert.ok(existsSync(join(dir, 'INDEX')));
        if (from === 'replay') rmSync(join(dir, 'INDEX'));
        await open();
        assert.equal(store.recovery?.snapshot, from === 'the index snapshot');

        const kept = messages.filter((_, i) => i % 3 !== 1);
        for (const m of deleted) assert.equal(await store.get(m.header.messageId), undefined);
        for (const m of kept.slice(0, 2000))
          assert.equal((await store.get(m.header.messageId))?.header.messageId, m.header.messageId);
        const expected = kept
          .map((m) => ({ time: m.nextDeliverTime, id: m.header.messageId }))
          .sort((a, b) => a.time - b.time || order(a.id, b.id))
          .map((k) => k.id);
        const paged: string[] = [];
        let after: { nextDeliverTime: number; messageId: string } | undefined;
        for (;;) {
          const page = await store.pageDue({ dueBy: now, after, limit: 997, committed: true });
          paged.push(...page.map((m) => m.header.messageId));
          if (page.length < 997) break;
          const last = page[page.length - 1]!;
          after = { nextDeliverTime: last.nextDeliverTime, messageId: last.header.messageId };
        }
        assert.deepEqual(paged, expected);
        assert.equal(store.stats().messages, kept.length);
      });
    }
  });
});
