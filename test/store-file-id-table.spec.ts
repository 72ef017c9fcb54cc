// The file store's ids (store/file/id-table.ts; doc/file-store.md "Memory"): 32-hex-digit ids are packed
// as bytes, others kept as strings. Every lookup, deletion (backward shift) and comparison must give
// exactly what a Map of strings and JavaScript's string order give, through a reopen too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type FileStore, openFileStore } from '../store/file';
import { IdTable } from '../store/file/id-table';
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
      assert.equal(table.idOf(slot), id);
      assert.ok(table.is(slot, id));
    }
    for (let i = 0; i < 2_000; i++) {
      const absent = i % 2 ? hexId() : oddId(next, -i);
      if (!model.has(absent)) assert.equal(table.find(absent), undefined, absent);
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

    it('gets and pages in (time, id) order exactly the messages left of 20,000 with mixed ids, after a reopen', async () => {
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
      await open();

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
  });
});
