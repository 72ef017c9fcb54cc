// doc/architecture.md §4, §5 "persist", §8: the producer gets a true store-ack only once the store
// holds the message; a store that refuses gets a false one with a reason, never "stored".
import assert from 'node:assert/strict';
import { InFlightSet } from '../../handler/delivery-in-flight';
import type { CheckedPublish, DeliveryRequest } from '../../handler/events';
import { createPersistStage } from '../../handler/persist';
import { Reasons } from '../../protocol/reasons';
import { MemoryStore } from '../../store/memory/memory-store';
import { aMessage } from '../support/messages';
import { RecordingSession } from '../support/recording-session';

describe('persist stage - store-ack after the store', () => {
  const nowMs = 1_700_000_000_400;
  let store: MemoryStore;
  let inFlight: InFlightSet;
  let delivered: DeliveryRequest[];
  let storeErrors: string[];
  let session: RecordingSession;
  let persist: ReturnType<typeof createPersistStage>;

  function build(maxMessages = 100) {
    store = new MemoryStore({ maxMessages });
    inFlight = new InFlightSet();
    delivered = [];
    storeErrors = [];
    session = new RecordingSession({ groupId: 'p-trade', authenticated: true });
    persist = createPersistStage({
      store,
      inFlight,
      txCheckAgeSec: 6,
      nowMs: () => nowMs,
      onStoreError: (_e, id) => storeErrors.push(id),
      onStored: () => undefined,
      toDeliverPrepare: (r) => delivered.push(r),
    });
  }
  beforeEach(() => build());

  const event = (overrides = {}): CheckedPublish => {
    const stored = aMessage(overrides);
    return {
      session,
      opaque: 4,
      message: { cmdType: 0x12, header: stored.header, body: 'hello' },
      raw: Buffer.from('raw'),
      receivedAtMs: 1,
      stored,
      rawIsDeliverable: true,
    };
  };

  it('acks true only once the save resolved, then hands a committed message to its first delivery', async () => {
    const e = event();
    const id = e.stored.header.messageId;
    let durable!: () => void;
    const saved = store.save.bind(store);
    store.save = async (m) => (await saved(m), await new Promise<void>((r) => (durable = r)));
    const persisting = persist(e);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      [session.storeAcks, delivered, inFlight.isStoring(id)],
      [[], [], true],
      'nothing said while the store writes',
    );
    durable();
    await persisting;
    assert.deepEqual(session.storeAcks, [{ opaque: 4, messageId: id, status: true, feedback: '' }]);
    assert.equal(inFlight.isStoring(id), false);
    assert.deepEqual(
      delivered.map((r) => [r.attempt, r.fly, r.wire]),
      [[1, false, e.raw]],
    );
  });

  it('stores a prepared message without delivering it, its first check-back due txCheckAgeSec later', async () => {
    const e = event({ commit: false });
    await persist(e);
    assert.deepEqual([session.storeAcks[0].status, delivered.length], [true, 0]);
    assert.equal((await store.get(e.stored.header.messageId))?.nextDeliverTime, Math.ceil(nowMs / 1000) + 6);
  });

  it('delivers a fly message without storing it', async () => {
    const e = event({ fly: true });
    await persist(e);
    assert.deepEqual(
      [session.storeAcks[0].status, delivered[0].fly, await store.get(e.stored.header.messageId)],
      [true, true, undefined],
    );
  });

  it("acks a producer's retry of a stored message as a duplicate, without a second delivery", async () => {
    const e = event();
    await persist(e);
    await persist({ ...e, stored: { ...e.stored } });
    assert.deepEqual(
      session.storeAcks.map((a) => [a.status, a.feedback]),
      [
        [true, ''],
        [true, 'duplicate: already stored'],
      ],
    );
    assert.equal(delivered.length, 1);
  });

  it('answers a full store with store-ack false "Store Full" (retriable), reports it, delivers nothing', async () => {
    build(1);
    await persist(event());
    const refused = event();
    await persist(refused);
    assert.equal(session.storeAcks[1].status, false);
    assert.ok(session.storeAcks[1].feedback.startsWith(Reasons.storeFull.text));
    assert.equal(Reasons.storeFull.retriable, true);
    assert.deepEqual([storeErrors, delivered.length], [[refused.stored.header.messageId], 1]);
    assert.equal(inFlight.isStoring(refused.stored.header.messageId), false, 'nothing left marked as a save under way');
  });
});
