// What every backend owes the broker (doc/architecture.md §8): one suite over every entry of storeBackends.
import assert from 'node:assert/strict';
import type { DueCursor, MessageStore, StoredMessage } from '../store/contract';
import { compareDue, cursorOf } from '../store/due-order';
import { DuplicateMessageError } from '../store/errors';
import { aMessage } from './support/messages';
import { storeBackends } from './support/store-backends';

const NOW = Math.floor(Date.now() / 1000);

function ids(messages: StoredMessage[]): string[] {
  return messages.map((m) => m.header.messageId);
}

async function pageAll(
  store: MessageStore,
  committed: boolean,
  dueBy: number,
  limit: number,
): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let after: DueCursor | undefined;
  for (;;) {
    const page = await store.pageDue({ dueBy, after, limit, committed });
    out.push(...page);
    if (page.length < limit) return out;
    after = cursorOf(page[page.length - 1]!);
  }
}

for (const backend of storeBackends) {
  describe(`store contract - ${backend.name}`, function () {
    this.timeout(30_000);
    let store: MessageStore;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await backend.close(store);
    });

    it('returns a saved message by id with every field', async () => {
      const bytes = aMessage({ properties: [{ key: 'k', value: 'v' }] }, Buffer.from([0, 1, 2, 255]));
      const text = aMessage({ commit: false }, 'héllo wörld');
      await store.save(bytes);
      await store.save(text);
      assert.deepEqual(await store.get(bytes.header.messageId), bytes);
      assert.deepEqual(await store.get(text.header.messageId), text);
      assert.equal(await store.get('0'.repeat(32)), undefined);
    });

    it('saves a batch, each message as one', async () => {
      const batch = Array.from({ length: 50 }, (_, i) => aMessage({}, `body ${i}`));
      await store.saveBatch(batch);
      for (const message of batch) assert.deepEqual(await store.get(message.header.messageId), message);
    });

    it('refuses a duplicate messageId and keeps the first copy', async () => {
      const first = aMessage({}, 'first');
      await store.save(first);
      const again = { ...aMessage({ messageId: first.header.messageId }, 'second') };
      await assert.rejects(store.save(again), DuplicateMessageError);
      const fresh = aMessage({}, 'fresh');
      await assert.rejects(store.saveBatch([fresh, again]), DuplicateMessageError);
      assert.equal((await store.get(first.header.messageId))?.body, 'first');
      assert.equal((await store.get(fresh.header.messageId))?.body, 'fresh');
    });

    it('commits a prepared message and rolls another back', async () => {
      const toCommit = aMessage({ commit: false });
      const toRollback = aMessage({ commit: false });
      await store.saveBatch([toCommit, toRollback]);
      const committed = await store.commit(toCommit.header.messageId);
      assert.equal(committed?.header.commit, true);
      assert.equal((await store.get(toCommit.header.messageId))?.header.commit, true);
      assert.equal(await store.rollback(toRollback.header.messageId), true);
      assert.equal(await store.get(toRollback.header.messageId), undefined);
      assert.equal(await store.rollback(toRollback.header.messageId), false);
      assert.equal(await store.commit('f'.repeat(32)), undefined);
    });

    it('records tx check-backs with the message', async () => {
      const prepared = aMessage({ commit: false });
      await store.save(prepared);
      await store.recordCheck(prepared.header.messageId, 3, NOW + 30);
      const stored = await store.get(prepared.header.messageId);
      assert.deepEqual([stored?.checkCount, stored?.nextDeliverTime], [3, NOW + 30]);
    });

    it('keeps succeeded and failed groups when a delivery result is recorded', async () => {
      const message = aMessage();
      await store.save(message);
      const result = { succGroups: ['s-mc'], failGroups: ['s-risk'], deliverCount: 4, nextDeliverTime: NOW + 5 };
      await store.recordDelivery(message.header.messageId, result);
      const stored = await store.get(message.header.messageId);
      assert.deepEqual(
        [stored?.succGroups, stored?.failGroups, stored?.deliverCount, stored?.nextDeliverTime],
        [['s-mc'], ['s-risk'], 4, NOW + 5],
      );
    });

    it('forgets a deleted message', async () => {
      const message = aMessage();
      await store.save(message);
      await store.delete(message.header.messageId);
      assert.equal(await store.get(message.header.messageId), undefined);
      assert.deepEqual(await store.countsByTopic(), {});
      await store.delete(message.header.messageId); // twice is harmless
    });

    it('moves a message to the dead letters, lists them by topic and group, and redrives one', async () => {
      const trade = aMessage({ topic: 'trade' });
      const user = aMessage({ topic: 'user' });
      await store.saveBatch([trade, user]);
      await store.recordDelivery(user.header.messageId, {
        succGroups: ['s-mc'],
        failGroups: ['s-risk'],
        deliverCount: 9,
        nextDeliverTime: NOW,
      });
      await store.deadLetter(trade.header.messageId, 'deliverLimit reached');
      await store.deadLetter(user.header.messageId, 'expired');
      assert.deepEqual(await store.pageDue({ dueBy: NOW + 10, limit: 10, committed: true }), []);
      assert.deepEqual(await store.countsByTopic(), {});
      assert.equal((await store.get(trade.header.messageId))?.header.messageId, trade.header.messageId);

      const all = await store.listDeadLetters({ limit: 10 });
      assert.deepEqual(ids(all.map((d) => d.message)), [trade, user].map((m) => m.header.messageId).sort());
      const tradeLetter = (await store.listDeadLetters({ topic: 'trade', limit: 10 }))[0]!;
      assert.deepEqual(
        [tradeLetter.message.header.messageId, tradeLetter.reason],
        [trade.header.messageId, 'deliverLimit reached'],
      );
      assert.ok(
        Math.abs(tradeLetter.deadTime - Math.floor(Date.now() / 1000)) < 60,
        `deadTime ${tradeLetter.deadTime} is now`,
      );
      assert.deepEqual(ids((await store.listDeadLetters({ groupId: 's-mc', limit: 10 })).map((d) => d.message)), [
        trade.header.messageId,
      ]);
      const [first] = await store.listDeadLetters({ limit: 1 });
      assert.equal((await store.listDeadLetters({ afterId: first!.message.header.messageId, limit: 10 })).length, 1);

      const redriven = await store.redrive(user.header.messageId, NOW + 1);
      assert.deepEqual(
        [redriven?.deliverCount, redriven?.failGroups, redriven?.nextDeliverTime],
        [0, ['s-risk'], NOW + 1],
      );
      assert.deepEqual(ids(await store.pageDue({ dueBy: NOW + 10, limit: 10, committed: true })), [
        user.header.messageId,
      ]);
      assert.deepEqual(ids((await store.listDeadLetters({ limit: 10 })).map((d) => d.message)), [
        trade.header.messageId,
      ]);
      assert.equal(await store.redrive(user.header.messageId, NOW), undefined);
    });

    it('redrives a prepared dead letter as prepared, its check-backs from the start (doc/transactions.md)', async () => {
      const prepared = aMessage({ commit: false });
      await store.save(prepared);
      await store.recordCheck(prepared.header.messageId, 15, NOW + 30);
      await store.deadLetter(prepared.header.messageId, 'tx rolled back by the final action');
      const redriven = await store.redrive(prepared.header.messageId, NOW);
      assert.deepEqual([redriven?.header.commit, redriven?.checkCount, redriven?.nextDeliverTime], [false, 0, NOW]);
      assert.deepEqual(
        ids(await store.pageDue({ dueBy: NOW, limit: 10, committed: false })),
        [prepared.header.messageId],
        'due for a check-back',
      );
      assert.deepEqual(
        await store.pageDue({ dueBy: NOW + 100, limit: 10, committed: true }),
        [],
        'never due for delivery',
      );
      const stored = await store.get(prepared.header.messageId);
      assert.deepEqual([stored?.header.commit, stored?.checkCount], [false, 0]);
    });

    it('pages due messages in (nextDeliverTime, messageId) order without skipping or repeating', async () => {
      const messages = Array.from({ length: 230 }, (_, i) => ({ ...aMessage(), nextDeliverTime: NOW - 100 + (i % 7) }));
      const later = { ...aMessage(), nextDeliverTime: NOW + 1000 };
      await store.saveBatch([...messages, later]);
      const expected = [...messages].sort(compareDue).map((m) => m.header.messageId);
      for (const limit of [1, 7, 50, 1000]) {
        assert.deepEqual(ids(await pageAll(store, true, NOW, limit)), expected, `limit ${limit}`);
      }
      // a page after a cursor in the middle of a run of equal times
      const cut = [...messages].sort(compareDue)[100]!;
      const page = await store.pageDue({ dueBy: NOW, after: cursorOf(cut), limit: 5, committed: true });
      assert.deepEqual(ids(page), expected.slice(101, 106));
    });

    it('pages only the asked topics, in order, a page short only when nothing more is due', async () => {
      const wanted = Array.from({ length: 30 }, (_, i) => ({
        ...aMessage({ topic: i % 2 ? 'wanted' : 'also' }),
        nextDeliverTime: NOW - 100 + (i % 5),
      }));
      const others = Array.from({ length: 200 }, (_, i) => ({
        ...aMessage({ topic: 'other' }),
        nextDeliverTime: NOW - 100 + (i % 5),
      }));
      await store.saveBatch([...others, ...wanted]);
      const expected = [...wanted].sort(compareDue).map((m) => m.header.messageId);
      const topics = ['wanted', 'also'];
      const out: StoredMessage[] = [];
      let after: DueCursor | undefined;
      for (;;) {
        const page = await store.pageDue({ dueBy: NOW, after, limit: 4, committed: true, topics });
        out.push(...page);
        if (page.length < 4) break;
        after = cursorOf(page[page.length - 1]!);
      }
      assert.deepEqual(ids(out), expected);
      assert.deepEqual(await store.pageDue({ dueBy: NOW, limit: 10, committed: true, topics: ['none'] }), []);
    });

    it('keeps paging in order while messages are rescheduled between pages', async () => {
      const messages = Array.from({ length: 60 }, () => ({ ...aMessage(), nextDeliverTime: NOW - 10 }));
      await store.saveBatch(messages);
      const seen: string[] = [];
      let after: DueCursor | undefined;
      for (;;) {
        const page = await store.pageDue({ dueBy: NOW, after, limit: 8, committed: true });
        if (page.length === 0) break;
        for (const m of page) {
          seen.push(m.header.messageId);
          await store.recordDelivery(m.header.messageId, {
            succGroups: [],
            failGroups: ['g'],
            deliverCount: 1,
            nextDeliverTime: NOW + 60,
          });
        }
        after = cursorOf(page[page.length - 1]!);
      }
      assert.deepEqual(seen, messages.map((m) => m.header.messageId).sort());
    });

    it('pages committed and prepared messages apart', async () => {
      const committed = { ...aMessage({ commit: true }), nextDeliverTime: NOW - 1 };
      const prepared = { ...aMessage({ commit: false }), nextDeliverTime: NOW - 1 };
      await store.saveBatch([committed, prepared]);
      assert.deepEqual(ids(await store.pageDue({ dueBy: NOW, limit: 10, committed: true })), [
        committed.header.messageId,
      ]);
      assert.deepEqual(ids(await store.pageDue({ dueBy: NOW, limit: 10, committed: false })), [
        prepared.header.messageId,
      ]);
      await store.commit(prepared.header.messageId);
      assert.equal((await store.pageDue({ dueBy: NOW, limit: 10, committed: true })).length, 2);
      assert.deepEqual(await store.pageDue({ dueBy: NOW, limit: 10, committed: false }), []);
    });

    it('counts unfinished messages per topic', async () => {
      const messages = [
        aMessage({ topic: 'trade' }),
        aMessage({ topic: 'trade' }),
        aMessage({ topic: 'user', commit: false }),
      ];
      await store.saveBatch(messages);
      assert.deepEqual(await store.countsByTopic(), { trade: 2, user: 1 });
      await store.delete(messages[0]!.header.messageId);
      assert.deepEqual(await store.countsByTopic(), { trade: 1, user: 1 });
    });

    if (backend.durable) {
      it('keeps every state across a reopen', async () => {
        const plain = aMessage({}, Buffer.from('plain'));
        const delivered = aMessage();
        const committed = aMessage({ commit: false });
        const checked = aMessage({ commit: false });
        const dead = aMessage({ topic: 'user' });
        const deleted = aMessage();
        const rolledBack = aMessage({ commit: false });
        await store.saveBatch([plain, delivered, committed, checked, dead, deleted, rolledBack]);
        await store.recordDelivery(delivered.header.messageId, {
          succGroups: ['a'],
          failGroups: ['b', 'c'],
          deliverCount: 5,
          nextDeliverTime: NOW + 20,
        });
        await store.commit(committed.header.messageId);
        await store.recordCheck(checked.header.messageId, 2, NOW + 40);
        await store.deadLetter(dead.header.messageId, 'expired');
        await store.delete(deleted.header.messageId);
        await store.rollback(rolledBack.header.messageId);
        const before = await Promise.all(
          [plain, delivered, committed, checked, dead].map((m) => store.get(m.header.messageId)),
        );
        const lettersBefore = await store.listDeadLetters({ limit: 10 });
        const countsBefore = await store.countsByTopic();
        const dueBefore = await pageAll(store, true, NOW + 100, 3);

        store = await backend.reopen!(store);
        const after = await Promise.all(
          [plain, delivered, committed, checked, dead].map((m) => store.get(m.header.messageId)),
        );
        assert.deepEqual(after, before);
        assert.equal(await store.get(deleted.header.messageId), undefined);
        assert.equal(await store.get(rolledBack.header.messageId), undefined);
        assert.deepEqual(await store.listDeadLetters({ limit: 10 }), lettersBefore);
        assert.deepEqual(await store.countsByTopic(), countsBefore);
        assert.deepEqual(ids(await pageAll(store, true, NOW + 100, 3)), ids(dueBefore));
        assert.deepEqual(ids(await store.pageDue({ dueBy: NOW + 100, limit: 10, committed: false })), [
          checked.header.messageId,
        ]);
        await assert.rejects(store.save(plain), DuplicateMessageError);
        await store.save(aMessage()); // and it takes new work
      });
    }
  });
}
