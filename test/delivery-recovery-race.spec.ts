// doc/architecture.md §6: the recovery scan pages stored messages and re-drives those due. A store can make a
// saved row visible to that page before it answers the save (InnoDB commits in memory, then flushes
// its log; a slow flush can hold an answer for seconds): the message must still be delivered once,
// by the publish path when the save resolves, not once by the scan and again by the publish path.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import type { DueQuery, StoredMessage } from '../store/contract';
import { MemoryStore } from '../store/memory/memory-store';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';

/** Saves are stored (visible to pageDue) at once, but answered only when the gate opens. */
class LateAnsweringStore extends MemoryStore {
  stored = 0;
  pagesAfterStore = 0;
  private gate!: Promise<void>;
  private openGate!: () => void;

  constructor() {
    super({ maxMessages: 1000 });
    this.close();
  }

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
  }

  override async save(message: StoredMessage): Promise<void> {
    await super.save(message);
    this.stored++;
    await this.gate;
  }

  override async pageDue(query: DueQuery): Promise<StoredMessage[]> {
    const page = await super.pageDue(query);
    if (this.stored > 0) this.pagesAfterStore++;
    return page;
  }
}

describe('delivery - a recovery scan that sees a save before it is answered', function () {
  this.timeout(30_000);
  const store = new LateAnsweringStore();
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { recoverIntervalMs: 100 },
    brokerOptions: { store },
  });

  it('leaves the message to the publish path: delivered once, after its store-ack', async () => {
    const deliveries = new Map<string, number>();
    const marker = countdown(1, 20_000, 'the marker delivered');
    let markerId = '';
    const consumer = env.client({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => {
        deliveries.set(m.header.messageId, (deliveries.get(m.header.messageId) ?? 0) + 1);
        if (m.header.messageId === markerId) marker.tick();
        return true;
      },
    });
    const producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await Promise.all([consumer.start(), producer.start()]);

    const acked = producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'seen early' }));
    await eventually(
      () => store.pagesAfterStore >= 3,
      10_000,
      'recovery scans that page the stored, unanswered message',
    );
    assert.equal(deliveries.size, 0, 'not delivered while its save is unanswered');
    store.open();
    const { messageId } = await acked;

    // A message published after it is delivered after it: by then a second delivery would have come.
    markerId = (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'marker' })))
      .messageId;
    await marker.done;
    await eventually(() => deliveries.get(messageId) !== undefined, 5000, 'the first message delivered');
    assert.equal(deliveries.get(messageId), 1, 'delivered exactly once');
  });
});
