// file store (doc/file-store.md "Writes"): every delivery result is written, a park
// that moves nothing but nextDeliverTime later (a parked message looked at again) too, so after a
// restart a parked message is due at its latest recheck, not at once (doc/delivery.md).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { DeliveryResult } from '../store/contract';
import { type FileStore, openFileStore } from '../store/file';
import { tempDir } from './support/broker';
import { aMessage } from './support/messages';

describe('file store - a parked message rescheduled', function () {
  this.timeout(20_000);
  const now = Math.floor(Date.now() / 1000);
  let dir: string;
  let store: FileStore;
  const open = async () => {
    store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' }) as FileStore;
    await store.start();
  };
  const written = () => store.stats().bytes;
  const parked = (nextDeliverTime: number, overrides: Partial<DeliveryResult> = {}): DeliveryResult => ({
    succGroups: ['s-volatile'],
    failGroups: [],
    deliverCount: 0,
    nextDeliverTime,
    ...overrides,
  });

  beforeEach(async () => {
    dir = tempDir('kiteq-file-reschedule-');
    await open();
  });
  afterEach(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a park and each later recheck, and is due at the latest after a restart', async () => {
    const message = aMessage();
    const id = message.header.messageId;
    await store.save(message);
    const saved = written();
    await store.recordDelivery(id, parked(now + 60, { succGroups: [] })); // only a later time than the save's
    const recorded = written();
    assert.ok(recorded > saved, 'the park is written');

    await store.recordDelivery(id, parked(now + 120, { succGroups: [] }));
    assert.ok(written() > recorded, 'the recheck is written');
    assert.deepEqual(
      await store.pageDue({ dueBy: now + 100, limit: 10, committed: true }),
      [],
      'not due before its new time',
    );

    await store.stop();
    await open();
    const reopened = await store.get(id);
    assert.deepEqual([reopened?.succGroups, reopened?.failGroups, reopened?.nextDeliverTime], [[], [], now + 120]);
    assert.deepEqual(
      await store.pageDue({ dueBy: now + 100, limit: 10, committed: true }),
      [],
      'not due at once after the restart',
    );
  });

  it('writes every other result: an earlier time, another deliverCount or other groups', async () => {
    const message = aMessage();
    const id = message.header.messageId;
    await store.save(message);
    await store.recordDelivery(id, parked(now + 60));
    const changes: DeliveryResult[] = [
      parked(now + 30), // earlier: lost in a crash it would leave the message due later
      parked(now + 30, { deliverCount: 1 }),
      parked(now + 30, { deliverCount: 1, failGroups: ['s-durable'] }),
      parked(now + 30, { deliverCount: 1, failGroups: ['s-durable'], succGroups: ['s-volatile', 's-mc'] }),
    ];
    for (const change of changes) {
      const before = written();
      await store.recordDelivery(id, change);
      assert.ok(written() > before, `written: ${JSON.stringify(change)}`);
    }
    await store.stop();
    await open();
    const reopened = await store.get(id);
    assert.deepEqual(
      [reopened?.succGroups, reopened?.failGroups, reopened?.deliverCount, reopened?.nextDeliverTime],
      [['s-volatile', 's-mc'], ['s-durable'], 1, now + 30],
    );
  });
});
