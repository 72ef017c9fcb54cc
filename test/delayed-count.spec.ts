// doc/delayed-delivery.md "Counting": /stat (kiteq_ts.scheduled_messages) and /metrics
// (kiteq_scheduled_messages) count the stored messages whose kiteq.deliverAt is ahead; a cancel
// lowers the count at once, the time coming lowers it, and a file-store broker SIGKILLed and
// restarted counts the same. mysql:// counts none: null in /stat, no gauge.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, type Message } from '../client';
import { rmSync, startBrokerProcess, tempDir, type BrokerProcess } from './support/broker';
import { countdown } from './support/events';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';
import { BROKER_STORE_KINDS, withBroker } from './support/with-broker';

const TOKEN = 'count-token';
const binding = directBinding('s-timer', 'trade', 'order-timeout');
const order = (n: number) => buildStringMessage({ topic: 'trade', messageType: 'order-timeout', body: `o-${n}` });

async function statCount(base: string): Promise<number | null> {
  const stat = (await (await fetch(`${base}/stat`)).json()) as { kiteq_ts: { scheduled_messages: number | null } };
  return stat.kiteq_ts.scheduled_messages;
}

/** the gauge's value, or undefined when /metrics has no such gauge */
async function gauge(base: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = /^kiteq_scheduled_messages (\S+)$/m.exec(text);
  return line ? Number(line[1]) : undefined;
}

async function cancel(base: string, messageId: string): Promise<number> {
  const response = await fetch(`${base}/messages/${messageId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return response.status;
}

for (const store of BROKER_STORE_KINDS) {
  describe(`scheduled count - /stat and /metrics, ${store} store`, function () {
    this.timeout(30_000);
    const env = withBroker({
      bindings: [binding],
      store,
      config: { http: '127.0.0.1:0', httpToken: TOKEN, recoverIntervalMs: 1000 },
    });
    const base = () => `http://${env.broker.httpAddress}`;

    if (store === 'mysql') {
      it('reports the count as not available: null in /stat, no gauge', async () => {
        const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
        await producer.send(order(0), { delayMs: 600_000 });
        assert.equal(await statCount(base()), null);
        assert.equal(await gauge(base()), undefined);
      });
      return;
    }

    it('counts scheduled messages, lower by a cancel at once and by each one falling due', async () => {
      const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
      const t0 = Date.now();
      const [soon, toCancel, far] = await Promise.all(
        [3000, 60_000, 600_000].map(
          async (delay, i) => (await producer.send(order(i), { deliverAt: t0 + delay })).messageId,
        ),
      );
      await producer.send(order(9)); // not scheduled: parked (no consumer yet), stored, not counted
      assert.equal(await statCount(base()), 3);
      assert.equal(await gauge(base()), 3);

      assert.equal(await cancel(base(), toCancel), 200);
      assert.equal(await statCount(base()), 2, 'a cancel lowers it at once');
      assert.equal(await gauge(base()), 2);

      const arrived = countdown(1, 15_000, 'the soon one');
      const received: string[] = [];
      await env.startClient({
        groupId: 's-timer',
        bindings: [binding],
        listener: (m: Message) => {
          received.push(m.header.messageId);
          if (m.header.messageId === soon) arrived.tick();
          return true;
        },
      });
      await arrived.done;
      // counted to the second: it leaves the count at ⌈deliverAt⌉, the second the store makes it due
      const dueSecondMs = Math.ceil((t0 + 3000) / 1000) * 1000;
      if (Date.now() < dueSecondMs) await setTimeout(dueSecondMs - Date.now());
      assert.equal(await statCount(base()), 1, 'the one delivered at its time is not counted');
      assert.equal(await gauge(base()), 1);
      assert.ok(!received.includes(far) && !received.includes(toCancel));
    });
  });
}

describe('scheduled count - file store broker SIGKILLed and restarted', function () {
  this.timeout(60_000);
  let dir = '';
  let broker: BrokerProcess | undefined;
  const clients: KiteQClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the same after the restart: replay rebuilds it, cancelled ones stay uncounted', async () => {
    dir = tempDir('kiteq-delay-count-');
    const address = `127.0.0.1:${await freePort()}`;
    const http = `127.0.0.1:${await freePort()}`;
    const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [binding])}`;
    broker = await startBrokerProcess([
      ...['--bind', address, '--registry', registry, '--store', `file://${join(dir, 'data')}?fsync=always`],
      ...['--topics', 'trade', '--groups', 'none', '--log-level', 'warn', '--http', http, '--http-token', TOKEN],
    ]);
    const base = `http://${http}`;
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(producer);
    await producer.start();
    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await producer.send(order(i), { deliverAt: t0 + 120_000 + i * 1000 })).messageId);
    await producer.send(order(99)); // not scheduled
    for (const id of ids.slice(0, 3)) assert.equal(await cancel(base, id), 200);
    assert.equal(await statCount(base), 9);

    assert.equal(await broker.kill('SIGKILL'), null, 'killed by the signal');
    broker = await broker.restart();
    assert.equal(await statCount(base), 9);
    assert.equal(await gauge(base), 9);
  });
});
