// doc/delayed-delivery.md "Counting": each store that keeps a count of scheduled messages (memory,
// file) counts the stored, not dead-lettered ones whose kiteq.deliverAt is ahead, committed or
// prepared; a cancel, rollback, dead letter and the time coming lower it, a re-drive raises it, and
// the file store's count is the same after a reopen. mysql:// keeps none and says so.
import assert from 'node:assert/strict';
import { DELIVER_AT_PROPERTY } from '../protocol/deliver-at';
import type { MessageStore, StoredMessage } from '../store/contract';
import { type MessageState, Reader, readState, RecordWriter, encodeStateRecord } from '../store/file/record-codec';
import { aMessage } from './support/messages';
import { storeBackends } from './support/store-backends';

const at = (deliverAtMs: number, commit = true): StoredMessage =>
  aMessage({ commit, properties: [{ key: DELIVER_AT_PROPERTY, value: String(deliverAtMs) }] });
const id = (m: StoredMessage) => m.header.messageId;

for (const backend of storeBackends) {
  describe(`scheduled count - ${backend.name} store`, function () {
    this.timeout(30_000);
    let store: MessageStore;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await backend.close(store);
    });

    if (backend.name === 'mysql') {
      it('keeps no count: the time is inside the header blob, not a column (reported as not available)', () => {
        assert.equal(store.scheduledCount, undefined);
      });
      return;
    }

    it('counts committed and prepared messages whose time is ahead, lowered and raised by every change', async () => {
      // whole seconds well ahead of now, each time half a second into its second
      const base = (Math.floor(Date.now() / 1000) + 100) * 1000;
      const soon = at(base + 10_500);
      const later = at(base + 20_500);
      const prepared = at(base + 30_500, false);
      const toDeadLetter = at(base + 40_500);
      const toCancel = at(base + 50_500);
      const toRollBack = at(base + 60_500, false);
      const plain = aMessage();
      const past = at(Date.now() - 5000);
      await store.saveBatch([soon, later, prepared, toDeadLetter, toCancel, toRollBack, plain, past]);
      const count = () => store.scheduledCount!(Date.now());
      assert.equal(count(), 6);

      await store.delete(id(toCancel));
      assert.equal(count(), 5, 'a cancel lowers it');
      await store.rollback(id(toRollBack));
      assert.equal(count(), 4, 'a rollback lowers it');
      await store.deadLetter(id(toDeadLetter), 'by hand');
      assert.equal(count(), 3, 'a dead letter is not counted');
      await store.redrive(id(toDeadLetter), Math.floor(Date.now() / 1000));
      assert.equal(count(), 4, 'a re-driven one whose time is still ahead is counted again');
      await store.deadLetter(id(toDeadLetter), 'by hand');
      await store.commit(id(prepared));
      await store.recordDelivery(id(soon), {
        succGroups: [],
        failGroups: [],
        deliverCount: 0,
        nextDeliverTime: Math.ceil((base + 10_500) / 1000),
      });
      assert.equal(count(), 3, 'a commit and a deferral change nothing');

      if (backend.reopen) {
        store = await backend.reopen(store);
        assert.equal(count(), 3, 'the same after a reopen (read back from the index snapshot of the clean stop)');
        await store.delete(id(later));
        assert.equal(count(), 2, 'and it goes on moving after it');
        await store.save(at(base + 20_500));
        assert.equal(count(), 3);
      }

      // the time coming: each leaves the count when its second (⌈deliverAt⌉) comes, never before
      assert.equal(store.scheduledCount!(base + 10_999), 3);
      assert.equal(store.scheduledCount!(base + 11_000), 2);
      assert.equal(store.scheduledCount!(base + 21_000), 1);
      assert.equal(store.scheduledCount!(base + 31_000), 0);
      await store.delete(id(prepared));
      assert.equal(store.scheduledCount!(base + 31_000), 0, 'one that has come is not taken off twice');
    });
  });
}

describe('scheduled count - the file store record', function () {
  const state = (deliverAtSec: number): MessageState => ({
    flags: 1,
    deliverCount: 2,
    checkCount: 1,
    nextDeliverTime: 1_800_000_000,
    succGroups: ['a'],
    failGroups: ['b'],
    deadTime: 0,
    deadReason: '',
    deliverAtSec,
  });
  const roundTrip = (s: MessageState) => {
    const w = new RecordWriter();
    encodeStateRecord(w, 'x'.repeat(32), s);
    const r = new Reader(Buffer.concat(w.formed()), 9);
    r.str();
    return { bytes: w.length, read: readState(r, (name) => name) };
  };

  it('carries the time only for a scheduled message: a record without one is the format before it', () => {
    const scheduled = roundTrip(state(1_800_000_123));
    const plain = roundTrip(state(0));
    assert.deepEqual(scheduled.read, state(1_800_000_123));
    assert.deepEqual(plain.read, state(0));
    assert.equal(scheduled.bytes, plain.bytes + 4);
  });
});
