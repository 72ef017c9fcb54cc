// store/file/id-table.ts (the index's id → slot table) against a Map doing the same, and the due
// list's id prefix (store/file/due-list.ts) against string order.
import assert from 'node:assert/strict';
import { idPrefix } from '../store/file/due-list';
import { IdTable, NOT_ASCII } from '../store/file/id-table';
import { seededRandom } from './fixtures/fault/harness';

describe('file store - id table', () => {
  it('agrees with a Map through 200,000 random inserts, deletes and lookups, by string and by bytes', () => {
    const random = seededRandom(29);
    const ids: string[] = [];
    const free: number[] = [];
    const model = new Map<string, number>();
    const table = new IdTable(() => ids);
    // short ids from a small alphabet: many equal hashes' neighbours, long probe runs, deletes in them
    const someId = () => Math.floor(random() * 30_000).toString(36);
    for (let step = 0; step < 200_000; step++) {
      const id = someId();
      const op = random();
      if (op < 0.5 && !model.has(id)) {
        const slot = free.pop() ?? ids.length;
        ids[slot] = id;
        table.set(id, slot);
        model.set(id, slot);
      } else if (op < 0.8 && model.has(id)) {
        const slot = model.get(id)!;
        table.delete(id);
        model.delete(id);
        ids[slot] = '';
        free.push(slot);
      } else {
        assert.equal(table.get(id), model.get(id), `get(${id}) at step ${step}`);
        const bytes = Buffer.from(`xx${id}yy`);
        assert.equal(table.getBytes(bytes, 2, 2 + id.length), model.get(id), `getBytes(${id}) at step ${step}`);
      }
      assert.equal(table.size, model.size);
    }
    for (const [id, slot] of model) assert.equal(table.get(id), slot);
  });

  it('sends an id that is not ASCII back to be decoded, and finds it by string', () => {
    const ids = ['café-1', 'plain'];
    const table = new IdTable(() => ids);
    table.set('café-1', 0);
    table.set('plain', 1);
    const bytes = Buffer.from('café-1');
    assert.equal(table.getBytes(bytes, 0, bytes.length), NOT_ASCII);
    assert.equal(table.get(bytes.toString('utf8')), 0);
    assert.equal(table.getBytes(Buffer.from('plain'), 0, 5), 1);
    assert.equal(table.getBytes(Buffer.from('plaim'), 0, 5), undefined);
  });

  it('orders ids by prefix as their strings order, or calls them equal', () => {
    const random = seededRandom(7);
    const units = [0, 1, 48, 57, 97, 102, 200, 255, 256, 1000, 0xffff];
    const some = () =>
      String.fromCharCode(
        ...Array.from({ length: Math.floor(random() * 9) }, () => units[Math.floor(random() * units.length)]!),
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
});
