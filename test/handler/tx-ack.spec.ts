// doc/architecture.md §5 "tx-ack", §7: the stage alone, on a real memory:// store.
import assert from 'node:assert/strict';
import { InFlightSet } from '../../handler/delivery-in-flight';
import type { DeliveryRequest } from '../../handler/events';
import { createTxAckStage, type TxOutcome } from '../../handler/tx-ack';
import { TxCheckRegistry } from '../../handler/tx-check-registry';
import { TxSerial } from '../../handler/tx-serial';
import { TxStatus } from '../../protocol/messages/tx-ack';
import { MemoryStore } from '../../store/memory/memory-store';
import { aMessage } from '../support/messages';

describe('tx-ack stage - decisions on a memory store', () => {
  let store: MemoryStore;
  let checks: TxCheckRegistry;
  let delivered: DeliveryRequest[];
  let outcomes: { id: string; outcome: TxOutcome; answeredCheck: boolean }[];
  let txAck: ReturnType<typeof createTxAckStage>;
  let inFlight: InFlightSet;
  const refusals: { opaque: number; messageId: string; status: boolean; feedback: string }[] = [];
  const session = (id: number, groupId = 'p-trade') => ({
    id,
    groupId,
    remote: '127.0.0.1:1',
    sendStoreAck: (opaque: number, messageId: string, status: boolean, feedback: string) =>
      refusals.push({ opaque, messageId, status, feedback }),
  });
  const producer = session(7);

  beforeEach(() => {
    store = new MemoryStore();
    checks = new TxCheckRegistry();
    delivered = [];
    outcomes = [];
    inFlight = new InFlightSet();
    txAck = createTxAckStage({
      store,
      inFlight,
      checks,
      serial: new TxSerial(),
      toDeliverPrepare: (request) => delivered.push(request),
      onOutcome: (id, outcome, _feedback, answeredCheck) => outcomes.push({ id, outcome, answeredCheck }),
      onError: (error) => assert.fail(String(error)),
      onNotPublishingGroup: () => undefined,
    });
    refusals.length = 0;
  });

  async function prepared() {
    const message = aMessage({ commit: false, properties: [{ key: 'orderId', value: 'o-1' }] });
    await store.save(message);
    return message;
  }

  it('commit makes a prepared message deliverable at once', async () => {
    const message = await prepared();
    assert.equal(await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1), 'commit');
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].message.header.commit, true);
    assert.equal((await store.get(message.header.messageId))?.header.commit, true);
  });

  it('marks the commit as a store write under way until it resolves, so recovery leaves it alone', async () => {
    const message = await prepared();
    const id = message.header.messageId;
    const commit = store.commit.bind(store);
    let storingDuringCommit: boolean | undefined;
    store.commit = async (messageId) => {
      storingDuringCommit = inFlight.isStoring(messageId);
      return commit(messageId);
    };
    assert.equal(await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1), 'commit');
    assert.equal(storingDuringCommit, true);
    assert.equal(inFlight.isStoring(id), false, 'cleared before deliver-prepare');
  });

  it('rollback deletes it and delivers nothing', async () => {
    const message = await prepared();
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.ROLLBACK, feedback: 'card declined' }, producer, 1),
      'rollback',
    );
    assert.equal(await store.get(message.header.messageId), undefined);
    assert.deepEqual(delivered, []);
  });

  it('a second commit is a duplicate, a rollback after commit is refused and deletes nothing', async () => {
    const message = await prepared();
    await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1);
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1),
      'duplicate',
    );
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.ROLLBACK, feedback: '' }, producer, 1),
      'refused',
    );
    assert.ok(await store.get(message.header.messageId));
    assert.equal(delivered.length, 1);
  });

  it('finds a message whose id the producer sends in upper case (KiteQ clients echo it as published)', async () => {
    const message = await prepared();
    const header = { ...message.header, messageId: message.header.messageId.toUpperCase() };
    assert.equal(await txAck({ header, status: TxStatus.COMMIT, feedback: '' }, producer, 1), 'commit');
  });

  it('unknown in answer to a check-back leaves it prepared and marks the check answered', async () => {
    const message = await prepared();
    const id = message.header.messageId;
    checks.sent(id, producer.id, Date.now());
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.UNKNOWN, feedback: '' }, producer, 1),
      'unknown',
    );
    assert.equal(checks.isChecking(id), false);
    assert.equal(checks.unanswered(id), false, 'the producer answered: it is not passed over next time');
    assert.deepEqual(outcomes.at(-1), { id, outcome: 'unknown', answeredCheck: true });
    assert.equal((await store.get(id))?.header.commit, false);
  });

  it('an answer from another connection than the one asked is still a decision, not the answer', async () => {
    const message = await prepared();
    const id = message.header.messageId;
    checks.sent(id, 1, Date.now());
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, session(2), 1),
      'commit',
    );
    assert.deepEqual(outcomes.at(-1), { id, outcome: 'commit', answeredCheck: false });
    assert.equal(checks.isChecking(id), false, 'decided: nothing left to check');
  });

  it('a late commit after an unknown answer is honoured', async () => {
    const message = await prepared();
    const id = message.header.messageId;
    checks.sent(id, producer.id, Date.now());
    await txAck({ header: message.header, status: TxStatus.UNKNOWN, feedback: '' }, producer, 1);
    assert.equal(await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1), 'commit');
    assert.equal(delivered.length, 1);
  });

  it('a decision for a message the store does not hold is reported, not applied', async () => {
    const message = aMessage({ commit: false });
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1),
      'unknownMessage',
    );
    assert.deepEqual(delivered, []);
  });

  it('a commit arriving after the final action dead-lettered the message is refused (re-drive it from the dead letters)', async () => {
    const message = await prepared();
    await store.deadLetter(message.header.messageId, 'tx rolled back by the final action');
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 1),
      'refused',
    );
    assert.deepEqual(delivered, []);
    assert.equal((await store.listDeadLetters({ limit: 10 })).length, 1);
  });

  it('a commit or rollback from another group changes nothing and is refused on its own opaque', async () => {
    const message = await prepared();
    const id = message.header.messageId;
    const intruder = session(9, 's-other');
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.ROLLBACK, feedback: '' }, intruder, 41),
      'notPublishingGroup',
    );
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, intruder, 42),
      'notPublishingGroup',
    );
    assert.equal((await store.get(id))?.header.commit, false, 'still prepared');
    assert.deepEqual(delivered, []);
    assert.deepEqual(
      refusals.map((r) => [r.opaque, r.messageId, r.status]),
      [
        [41, id, false],
        [42, id, false],
      ],
    );
    assert.match(refusals[0].feedback, /^Not The Publishing Group/);
    assert.equal(
      await txAck({ header: message.header, status: TxStatus.COMMIT, feedback: '' }, producer, 43),
      'commit',
      'its own group still decides it',
    );
  });
});
