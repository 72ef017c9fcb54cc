// groupBacklog() on every store (doc/console.md "Per-group backlog"): per group, the committed
// messages of a topic and type it binds that it has not acked, and the oldest one's publishTime.
import assert from 'node:assert/strict';
import type { GroupBacklog, GroupBacklogQuery, MessageStore, StoredMessage } from '../store/contract';
import { FileStore } from '../store/file/file-store';
import { aMessage } from './support/messages';
import { storeBackends } from './support/store-backends';

const NOW = Math.floor(Date.now() / 1000);

/** s-mc binds every type of trade, s-risk only pay-succ, s-user the topic user */
const query: GroupBacklogQuery = {
  groupsOf: (topic, messageType) =>
    topic === 'trade' ? (messageType === 'pay-succ' ? ['s-mc', 's-risk'] : ['s-mc']) : ['s-user'],
  nowSec: NOW,
};

function owed(backlog: Record<string, GroupBacklog>, groupId: string): [number, number] {
  const b = backlog[groupId];
  return b && b.undelivered > 0 ? [b.undelivered, b.oldestPublishTime] : [0, 0];
}

function published(at: number, overrides: Parameters<typeof aMessage>[0] = {}): StoredMessage {
  return { ...aMessage(overrides, 'x'.repeat(2000)), publishTime: at };
}

for (const backend of storeBackends) {
  describe(`store group backlog - ${backend.name}`, function () {
    this.timeout(30_000);
    let store: MessageStore;
    beforeEach(async () => {
      store = await backend.open();
    });
    afterEach(async () => {
      await backend.close(store);
    });

    it('counts per group what it has not acked, with the oldest publish time, down to 0', async () => {
      const paySucc = Array.from({ length: 6 }, (_, i) => published(NOW - 600 + i * 60));
      const other = published(NOW - 1000, { messageType: 'refund' });
      // a header larger than the file store's first read (1 KiB): read whole
      const user = published(NOW - 50, { topic: 'user', properties: [{ key: 'note', value: 'n'.repeat(1500) }] });
      const notCounted = [
        published(NOW - 5000, { commit: false }), // prepared
        published(NOW - 5000, { expiredTime: NOW - 1 }), // expired
        published(NOW - 5000), // dead-lettered below
      ];
      await store.saveBatch([...paySucc, other, user, ...notCounted]);
      await store.deadLetter(notCounted[2]!.header.messageId, 'deliverLimit reached');

      let backlog = await store.groupBacklog(query);
      assert.deepEqual(owed(backlog, 's-mc'), [7, NOW - 1000]);
      assert.deepEqual(owed(backlog, 's-risk'), [6, NOW - 600]);
      assert.deepEqual(owed(backlog, 's-user'), [1, NOW - 50]);
      assert.equal(backlog['s-mc']!.estimated, false);

      // s-mc acks the three oldest pay-succ (s-risk failed them) and the refund, which finishes it
      for (const m of paySucc.slice(0, 3)) {
        await store.recordDelivery(m.header.messageId, {
          succGroups: ['s-mc'],
          failGroups: ['s-risk'],
          deliverCount: 1,
          nextDeliverTime: NOW + 60,
        });
      }
      await store.delete(other.header.messageId);
      backlog = await store.groupBacklog(query);
      assert.deepEqual(owed(backlog, 's-mc'), [3, NOW - 420]);
      assert.deepEqual(owed(backlog, 's-risk'), [6, NOW - 600]);

      // s-risk acks the oldest two: its oldest moves up
      for (const m of paySucc.slice(0, 2)) {
        await store.recordDelivery(m.header.messageId, {
          succGroups: ['s-mc', 's-risk'],
          failGroups: [],
          deliverCount: 2,
          nextDeliverTime: NOW + 60,
        });
      }
      backlog = await store.groupBacklog(query);
      assert.deepEqual(owed(backlog, 's-risk'), [4, NOW - 480]);

      for (const m of [...paySucc, user]) await store.delete(m.header.messageId);
      backlog = await store.groupBacklog(query);
      for (const groupId of ['s-mc', 's-risk', 's-user']) assert.deepEqual(owed(backlog, groupId), [0, 0], groupId);
    });
  });
}

describe('store group backlog - file, over its read budget', function () {
  this.timeout(30_000);
  const backend = storeBackends.find((b) => b.name === 'file')!;

  it('estimates from a random sample of headers and says so', async () => {
    const store = (await backend.open()) as FileStore;
    try {
      // one message in three is a refund, which s-risk does not bind: it owes 2,000 of 3,000
      const messages = Array.from({ length: 3000 }, (_, i) => ({
        ...aMessage(i % 3 === 0 ? { messageType: 'refund' } : {}),
        publishTime: NOW - 5000 + i,
      }));
      await store.saveBatch(messages);
      const exact = await store.groupBacklog(query);
      assert.deepEqual(owed(exact, 's-risk'), [2000, NOW - 4999]);
      assert.equal(exact['s-risk']!.estimated, false);
      const sampled = await store.groupBacklog(query, 500);
      assert.equal(sampled['s-mc']!.estimated, true);
      assert.equal(sampled['s-mc']!.undelivered, 3000, 's-mc binds every type: the index count is exact');
      // ~500 read: the fraction of pay-succ has a standard deviation of 2.1 %, 63 messages; 4 of them
      const [risk, oldest] = owed(sampled, 's-risk');
      assert.ok(Math.abs(risk - 2000) <= 250, `s-risk estimated ${risk} of 2000`);
      assert.ok(oldest >= NOW - 4999, 'the oldest of a sample is no older than the oldest');
    } finally {
      await backend.close(store);
    }
  });
});
