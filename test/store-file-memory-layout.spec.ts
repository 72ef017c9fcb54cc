// The file store index's compact layout (doc/file-store.md "Memory"): narrow columns widen as their
// values need and never lose one, the id table finds every id while it grows at 3/4 load and when it
// is sized from a snapshot's count, and the due list's typed-array chunks keep (time, id) order
// through inserts and removes as a sorted array does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DueList } from '../store/file/due-list';
import { IdTable, tableLength } from '../store/file/id-table';
import { NarrowColumn } from '../store/file/narrow-column';

/** deterministic, so a failure repeats */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('file store - memory layout of the index', () => {
  it('keeps every value of a narrow column as it widens from none to 16, 32 bits and float64', () => {
    const column = new NarrowColumn();
    column.grow(1024);
    const expected = new Map<number, number>();
    assert.equal(column.width, 0);
    column.set(5, 0);
    assert.equal(column.width, 0, 'zeros need no array');
    const steps: [number, number, number][] = [
      [1, 7, 2],
      [2, 65_535, 2],
      [3, 65_536, 4],
      [4, 4_294_967_295, 4],
      [5, 1.5, 8],
      [6, -1, 8],
      [7, 2 ** 40, 8],
    ];
    for (const [slot, value, width] of steps) {
      column.set(slot, value);
      expected.set(slot, value);
      assert.equal(column.width, width, `after ${value}`);
      for (const [s, v] of expected) assert.equal(column.get(s), v, `slot ${s} after ${value} was set`);
    }
    column.grow(4096);
    column.set(4000, 3);
    for (const [s, v] of expected) assert.equal(column.get(s), v, `slot ${s} after growing`);
    assert.equal(column.get(4000), 3);
    assert.equal(column.get(4001), 0);
  });

  it('saves a narrow column at its width and adopts it back', () => {
    const column = new NarrowColumn();
    column.grow(2048);
    for (let slot = 0; slot < 2000; slot++) column.set(slot, slot % 3 === 0 ? 70_000 + slot : slot);
    const bytes = column.save([10, 1999, 3]);
    assert.equal(bytes.length, 3 * 4);
    const values = NarrowColumn.alloc(column.width, 1024);
    new Uint8Array(values!.buffer).set(bytes);
    const back = new NarrowColumn();
    back.adopt(column.width, values, 1024);
    assert.deepEqual([back.get(0), back.get(1), back.get(2), back.get(3)], [10, 1999, 70_003, 0]);
    assert.equal(new NarrowColumn().save([1, 2]).length, 0, 'width 0 writes nothing');
    assert.throws(() => back.adopt(2, null, 1024), /width 2/);
  });

  it('finds every id while the table grows at 3/4 load, and after deletes, as a Map does', () => {
    const next = random(26);
    const table = new IdTable();
    const map = new Map<string, number>();
    let capacity = 0;
    const ids: string[] = [];
    for (let slot = 0; slot < 60_000; slot++) {
      if (slot >= capacity) {
        capacity = Math.max(1024, capacity * 2);
        table.grow(capacity);
      }
      const id = next() < 0.05 ? `text-${slot}` : randomBytes(16).toString('hex');
      table.set(slot, id);
      map.set(id, slot);
      ids.push(id);
      // right across each growth of the hash table (768, 1536, 3072 … entries)
      if ((slot + 1) % 768 === 0 || slot % 997 === 0) {
        for (const [known, at] of map) assert.equal(table.find(known), at);
      }
      if (next() < 0.2) {
        const gone = ids[Math.floor(next() * ids.length)]!;
        const at = map.get(gone);
        if (at !== undefined) {
          table.delete(at);
          map.delete(gone);
          assert.equal(table.find(gone), undefined);
        }
      }
    }
    assert.equal(table.size, map.size);
    for (const [known, at] of map) assert.equal(table.find(known), at);
    assert.equal(table.find(randomBytes(16).toString('hex')), undefined);
  });

  it('sizes a restored table from its count: at most 3/4 full, and still finds every id after adding more', () => {
    assert.equal(tableLength(0), 1024);
    assert.equal(tableLength(768), 1024);
    assert.equal(tableLength(769), 2048);
    assert.equal(tableLength(10_000_000), 2 ** 24, '10 M ids in 64 MiB, not 128');
    const source = new IdTable();
    source.grow(8192);
    const ids = Array.from({ length: 5000 }, (_, i) => (i % 100 === 0 ? `odd-${i}` : randomBytes(16).toString('hex')));
    ids.forEach((id, slot) => source.set(slot, id));
    const saved = source.save(ids.map((_, slot) => slot));
    const restored = new IdTable();
    restored.restore(saved, 8192);
    ids.forEach((id, slot) => assert.equal(restored.find(id), slot));
    for (let slot = 5000; slot < 8192; slot++) restored.set(slot, `more-${slot}`);
    ids.forEach((id, slot) => assert.equal(restored.find(id), slot));
    for (let slot = 5000; slot < 8192; slot++) assert.equal(restored.find(`more-${slot}`), slot);
  });

  it('keeps the due order of a sorted array through random inserts, removes and pages', () => {
    const next = random(7);
    const capacity = 20_000;
    const time = new NarrowColumn();
    time.grow(capacity);
    const ids = new IdTable();
    ids.grow(capacity);
    for (let slot = 0; slot < capacity; slot++) ids.set(slot, randomBytes(16).toString('hex'));
    const keys = () => ({ nextDeliverTime: time, ids });
    const list = new DueList(keys);
    const order = (a: number, b: number) => time.get(a) - time.get(b) || ids.compare(a, b);
    const inList = new Set<number>();
    // a snapshot's order first, then changes as a running store makes them
    const initial = Array.from({ length: 5000 }, (_, slot) => slot);
    for (const slot of initial) time.set(slot, 1_800_000_000 + Math.floor(next() * 50));
    initial.sort(order);
    list.loadSorted(Uint32Array.from(initial));
    initial.forEach((slot) => inList.add(slot));
    for (let step = 0; step < 40_000; step++) {
      const slot = Math.floor(next() * capacity);
      if (inList.has(slot)) {
        list.remove(slot);
        inList.delete(slot);
      } else {
        time.set(slot, 1_800_000_000 + Math.floor(next() * 50));
        list.insert(slot);
        inList.add(slot);
      }
    }
    const expected = [...inList].sort(order);
    assert.equal(list.size, expected.length);
    assert.deepEqual([...list.inOrder()], expected);
    const cursorSlot = expected[1234]!;
    const page = list.page(
      1_800_000_020,
      { nextDeliverTime: time.get(cursorSlot), messageId: ids.idOf(cursorSlot) },
      700,
    );
    const from = expected.slice(1235).filter((slot) => time.get(slot) <= 1_800_000_020);
    assert.deepEqual(page, from.slice(0, 700));
  });
});
