// A producer that never decides leaves its prepared message to the final action; with
// `txFinalAction commit` the broker commits it itself. A store can make that commit visible to the
// recovery scan before it answers the write (InnoDB commits in memory, then flushes its log): the
// scan must leave the message to the final action, which delivers it once the commit is answered,
// exactly as it does for a producer's commit (handler/tx-ack.ts, doc/transactions.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { DueQuery, StoredMessage } from '../store/contract';
import { MemoryStore } from '../store/memory/memory-store';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { ackDelivery, isDeliveryOf, publish } from './support/raw-tx';

/** Commits are applied (visible to pageDue) at once, but answered only when the gate opens. */
class LateCommitStore extends MemoryStore {
  committed = new Set<string>();
  /** recovery pages that held a committed, unanswered message already due */
  duePagesSeen = 0;
  private readonly gate: Promise<void>;
  open!: () => void;

  constructor() {
    super({ maxMessages: 1000 });
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  override async commit(messageId: string): Promise<StoredMessage | undefined> {
    const message = await super.commit(messageId);
    this.committed.add(messageId);
    await this.gate;
    return message;
  }

  override async pageDue(query: DueQuery): Promise<StoredMessage[]> {
    const page = await super.pageDue(query);
    const nowSec = Math.floor(Date.now() / 1000);
    if (query.committed && page.some((m) => this.committed.has(m.header.messageId) && m.nextDeliverTime <= nowSec))
      this.duePagesSeen++;
    return page;
  }
}

describe('adversary - a final-action commit seen by a recovery scan before it is stored', function () {
  this.timeout(30_000);
  const store = new LateCommitStore();
  let producer: RawClient;
  let consumer: RawClient;
  // registered before the broker's hooks: a held commit is answered before the broker stops
  after(() => store.open());
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: {
      txCheckAgeSec: 1,
      txCheckIntervalSec: 1,
      txMaxChecks: 1,
      txFinalAction: 'commit',
      recoverIntervalMs: 100,
    },
    brokerOptions: { store },
  });

  before(async () => {
    producer = await env.raw();
    assert.equal((await producer.handshake('p-trade', 'k')).status, true);
    consumer = await env.raw();
    assert.equal((await consumer.handshake('s-mc', 'k')).status, true);
  });

  it('is delivered once, by the final action, after its commit is answered', async () => {
    const header = aHeader({ commit: false, groupId: 'p-trade' });
    const id = header.messageId;
    assert.equal((await publish(producer, 1, header)).status, true); // and never decided: check-backs go unanswered
    await eventually(
      () => store.duePagesSeen >= 3,
      15_000,
      'recovery scans paging the committed, unanswered message when due',
    );
    assert.equal(consumer.frames.some(isDeliveryOf(id)), false, 'not delivered while the final commit is unanswered');
    store.open();
    ackDelivery(consumer, await consumer.next(isDeliveryOf(id), 5000), 's-mc');
    await eventually(async () => (await env.broker.store.get(id)) === undefined, 5000, 'finished after the ack');
    assert.equal(consumer.frames.some(isDeliveryOf(id)), false, 'delivered once');
  });
});
