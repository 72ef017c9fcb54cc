// The binding a poll makes is a client's binding (doc/http-gateway.md "Pull consume"), with a real
// ZooKeeper: written into /kiteq/sub/<topic>/<group>-bind beside the group's native bindings on
// that topic, and persistent: a broker started later knows it before the group polls, so a message
// published meanwhile waits for the group even when another group has acked it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Binding, directBinding } from '../binding/binding';
import { ZkClient } from '../binding/zk/zk-client';
import { buildStringMessage, KiteQClient } from '../client';
import { startBroker, tempDir, type TestBroker } from './support/broker';
import { countdown, eventually } from './support/events';
import { GatewayCaller } from './support/gateway-consume';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';

describe('gateway pull - the binding in ZooKeeper', function () {
  this.timeout(90_000);
  let zookeeper: ZooKeeperServer;
  let raw: ZkClient;
  let registry: string;
  let dir: string;
  const brokers: TestBroker[] = [];
  const clients: KiteQClient[] = [];

  before(async () => {
    zookeeper = await startZooKeeper();
    registry = `zk://${zookeeper.connectString}?sessionTimeoutMs=3000`;
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
    dir = tempDir('kiteq-gw-zk-');
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const b of brokers.splice(0)) await b.stop();
    await raw?.close();
    await zookeeper?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const broker = async () => {
    const b = await startBroker({
      bindings: [],
      config: { registry, store: `file://${join(dir, 'store')}`, gateway: '127.0.0.1:0' },
    });
    brokers.push(b);
    return b;
  };
  const client = async (groupId: string, options: { bindings?: Binding[]; listener?: () => boolean } = {}) => {
    const c = new KiteQClient({ registry, groupId, secretKey: 'k', publishTopics: ['trade'], ...options });
    clients.push(c);
    await c.start();
    return c;
  };
  const bindNode = async (): Promise<Binding[]> =>
    JSON.parse((await raw.getData('/kiteq/sub/trade/s-http-bind')).toString()) as Binding[];

  it('is written beside the native bindings and outlives the broker: a later broker keeps messages for the group', async () => {
    const first = await broker();
    const native = await client('s-http', { bindings: [directBinding('s-http', 'trade', 'refund')] });
    await eventually(async () => (await bindNode()).length === 1, 10_000, 'native -bind node');
    const http = () => new GatewayCaller(`http://${brokers[brokers.length - 1].broker.gatewayAddress}`, 's-http', 'k');
    assert.equal((await http().pull({ topic: 'trade', type: 'pay-succ' })).status, 200);
    await eventually(
      async () =>
        (await bindNode())
          .map((b) => b.messageType)
          .sort()
          .join() === 'pay-succ,refund',
      10_000,
      'both bindings in the -bind node',
    );
    assert.ok((await bindNode()).every((b) => b.groupId === 's-http' && b.persistent));

    await native.close();
    await first.stop();
    brokers.splice(0);
    const second = await broker();
    // s-live is bound too and acks at once; the message must still wait for s-http
    const acked = countdown(1, 20_000, 's-live delivery');
    await client('s-live', {
      bindings: [directBinding('s-live', 'trade', 'pay-succ')],
      listener: () => (acked.tick(), true),
    });
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'for both' }),
    );
    await acked.done;
    await eventually(
      async () => (await second.broker.store.get(messageId))?.succGroups.includes('s-live'),
      5000,
      's-live acked in the store',
    );
    const answer = await http().pull({ topic: 'trade', type: 'pay-succ', wait: 10 });
    assert.deepEqual(
      answer.body.map((m) => m.messageId),
      [messageId],
    );
    assert.deepEqual((await http().settle({ ack: [messageId] })).body.results, { [messageId]: 'acked' });
    await eventually(async () => (await second.broker.store.get(messageId)) === undefined, 5000, 'finished');
  });
});
