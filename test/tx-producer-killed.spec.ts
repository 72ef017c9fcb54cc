// The producer process is killed (SIGKILL) after the store-ack and before its TX_ACK;
// another producer process of the same group answers the check-back, and the message is
// delivered exactly when that answer is commit.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { directBinding } from '../binding/binding';
import { type JsonLinesProcess, startJsonLinesProcess } from './fixtures/tx-process';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';

const PRODUCER = resolve(__dirname, 'fixtures', 'tx-producer.js');
const binding = directBinding('s-mc', 'trade', 'pay-succ');

type ProducerProcess = JsonLinesProcess;

const startProducer = (args: object): ProducerProcess => startJsonLinesProcess(PRODUCER, [JSON.stringify(args)]);

for (const answer of ['commit', 'rollback'] as const) {
  describe(`tx producer killed - another producer process answers ${answer}`, function () {
    this.timeout(40_000);
    const processes: ProducerProcess[] = [];
    const received = new Map<string, number>();
    let onReceive: (id: string) => void = () => undefined;
    // registered before the broker's hooks: the producer processes go first
    after(async () => {
      for (const p of processes) await p.kill();
    });
    const env = withBroker({ bindings: [binding], config: { txCheckAgeSec: 1, txCheckIntervalSec: 1 } });

    before(async () => {
      await env.startClient({
        groupId: 's-mc',
        bindings: [binding],
        listener: (m) => {
          received.set(m.header.messageId, (received.get(m.header.messageId) ?? 0) + 1);
          onReceive(m.header.messageId);
          return true;
        },
      });
    });

    it(answer === 'commit' ? 'delivers every message, once' : 'delivers none and leaves none stored', async () => {
      const count = 20;
      const doomed = startProducer({ registry: env.registryUri, groupId: 'p-trade', mode: 'prepare-hang', count });
      processes.push(doomed);
      await doomed.waitFor('localCommitted', count, 15_000);
      const ids = doomed.events.filter((e) => e.event === 'localCommitted').map((e) => e.id as string);
      for (const id of ids)
        assert.equal(
          (await env.broker.store.get(id))?.header.commit,
          false,
          'stored prepared before the local transaction ran',
        );
      await doomed.kill(); // between the local commit and the TX_ACK

      const answering = startProducer({ registry: env.registryUri, groupId: 'p-trade', mode: 'answer', answer });
      processes.push(answering);
      await answering.waitFor('ready', 1, 10_000);
      if (answer === 'commit') {
        const arrived = countdown(count, 15_000, 'deliveries');
        onReceive = (id) => ids.includes(id) && arrived.tick();
        for (const id of ids) if (received.has(id)) arrived.tick(); // none expected, but count them honestly
        await arrived.done;
        assert.deepEqual([...received.keys()].sort(), [...ids].sort());
        assert.ok([...received.values()].every((n) => n === 1));
      } else {
        await eventually(
          async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
          15_000,
          'every prepared message rolled back',
        );
        assert.equal(received.size, 0);
        assert.deepEqual(await env.broker.store.listDeadLetters({ limit: 10 }), []);
      }
      const asked = new Set(answering.events.filter((e) => e.event === 'check').map((e) => e.id));
      assert.deepEqual([...asked].sort(), [...ids].sort(), 'the other process was asked about each message');
    });
  });
}
