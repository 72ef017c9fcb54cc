// doc/architecture.md §3: a broker whose ZooKeeper session expires re-registers and keeps delivering; with a
// 3-node ensemble, losing the node a broker is connected to changes nothing a user sees.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { ZkRegistry } from '../binding/zk';
import { ZkClient } from '../binding/zk/zk-client';
import { buildStringMessage, KiteQClient } from '../client';
import { startBroker, type TestBroker } from './support/broker';
import { countdown, eventually } from './support/events';
import {
  nodeServingSession,
  sessionKnown,
  startEnsemble,
  startZooKeeper,
  type ZooKeeperEnsemble,
  type ZooKeeperServer,
} from './support/zookeeper';
import { startZooKeeperProxy, type ZooKeeperProxy } from './support/zookeeper-proxy';

const binding = directBinding('s-mc', 'trade', 'pay-succ', { watermark: 100_000 });

async function roundtrips(producer: KiteQClient, received: Set<string>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `r${i}` }),
    );
    await eventually(() => received.has(messageId), 10_000, `delivery of ${messageId}`, 5);
  }
}

describe('zk broker resilience - session expiry', function () {
  this.timeout(60_000);
  let zookeeper: ZooKeeperServer;
  let proxy: ZooKeeperProxy;
  let raw: ZkClient;
  let env: TestBroker;
  const clients: KiteQClient[] = [];
  const received = new Set<string>();

  before(async () => {
    zookeeper = await startZooKeeper({ tickTimeMs: 200 });
    proxy = await startZooKeeperProxy(zookeeper.port);
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
    env = await startBroker({
      bindings: [],
      config: { registry: `zk://${proxy.connectString}?sessionTimeoutMs=1000` },
    });
    const registry = `zk://${zookeeper.connectString}`;
    const consumer = new KiteQClient({
      registry,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => (received.add(m.header.messageId), true),
    });
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(consumer, producer);
    await Promise.all([consumer.start(), producer.start()]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
    await raw?.close();
    await proxy?.close();
    await zookeeper?.stop();
  });

  it('re-registers its znodes under a new session and keeps delivering', async () => {
    await eventually(
      () => env.broker.bindingTable.groupsOf('trade').includes('s-mc'),
      10_000,
      'binding seen by the broker',
    );
    await roundtrips(clients[1], received, 3);
    const registry = env.broker.registryHandle as unknown as ZkRegistry;
    const oldSession = await registry.sessionId();
    proxy.cut();
    await eventually(
      async () => !(await sessionKnown(zookeeper, oldSession)),
      15_000,
      'ZooKeeper to expire the broker session',
    );
    // Cut off from ZooKeeper, the broker still delivers with the bindings it had.
    await roundtrips(clients[1], received, 3);
    proxy.restore();
    const alive = `/kiteq/alive_servers/${env.address}`;
    await eventually(
      async () => {
        const stat = await raw.exists(alive);
        return stat !== undefined && stat.ephemeralOwner.toString('hex') !== oldSession;
      },
      15_000,
      'alive_servers znode re-created by a new session',
    );
    assert.ok(await raw.exists(`/kiteq/server/trade/${env.address}`));
    await roundtrips(clients[1], received, 3);
  });
});

describe('zk broker resilience - 3-node ensemble', function () {
  this.timeout(90_000);
  let ensemble: ZooKeeperEnsemble;
  let env: TestBroker;
  const clients: KiteQClient[] = [];
  const received = new Set<string>();

  before(async () => {
    ensemble = await startEnsemble(3);
    const registry = `zk://${ensemble.connectString}?sessionTimeoutMs=4000`;
    env = await startBroker({ bindings: [], config: { registry } });
    const consumer = new KiteQClient({
      registry,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => (received.add(m.header.messageId), true),
    });
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(consumer, producer);
    await Promise.all([consumer.start(), producer.start()]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.stop();
    await ensemble?.stop();
  });

  it('keeps publishing and delivering when the node the broker uses is killed', async () => {
    await eventually(
      () => env.broker.bindingTable.groupsOf('trade').includes('s-mc'),
      10_000,
      'binding seen by the broker',
    );
    const registry = env.broker.registryHandle as unknown as ZkRegistry;
    const session = await registry.sessionId();
    const node = (await eventually(
      () => nodeServingSession(ensemble.nodes, session),
      10_000,
      'the node serving the broker',
    ))!;
    const stream = countdown(2000, 30_000, 'deliveries');
    const acked: string[] = [];
    let killed = false;
    for (let i = 0; i < 2000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          clients[1].send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `e${i + k}` })),
        ),
      );
      acked.push(...batch.map((a) => a.messageId));
      if (!killed && i >= 500) {
        killed = true;
        await node.kill('SIGKILL');
      }
    }
    await eventually(() => acked.every((id) => received.has(id)), 20_000, 'every acked message delivered');
    stream.tick(acked.length);
    await stream.done;
    // The broker's ephemerals live on in the surviving quorum, under the same session.
    const raw = await ZkClient.connect({
      connectString: ensemble.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 10_000,
    });
    try {
      const stat = await eventually(
        () => raw.exists(`/kiteq/alive_servers/${env.address}`),
        15_000,
        'alive_servers znode',
      );
      assert.equal(stat!.ephemeralOwner.toString('hex'), session, 'same session: nothing re-registered, nothing lost');
    } finally {
      await raw.close();
    }
  });
});
