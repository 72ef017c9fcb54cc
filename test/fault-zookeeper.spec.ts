// Fault suite, ZooKeeper at broker level (a child-process broker on zk://, real clients,
// a 4-producer stream): ZooKeeper stopped for 30 s then started; the broker's session expired by a
// network cut; a 3-node ensemble losing its leader. Delivery continues or resumes, bindings stay
// in force, nothing acked is lost.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { ZkClient } from '../binding/zk/zk-client';
import { buildStringMessage, KiteQClient } from '../client';
import { type ChildBroker, startChildBroker } from './fixtures/fault/harness';
import { startStream, type Stream } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { freePort } from './support/ports';
import { startEnsemble, startZooKeeper, type ZooKeeperEnsemble, type ZooKeeperServer } from './support/zookeeper';
import { startZooKeeperProxy, type ZooKeeperProxy } from './support/zookeeper-proxy';

const OUTAGE_MS = Number(process.env.KITEQ_FAULT_ZK_OUTAGE_MS ?? 30_000);

async function zkBroker(dir: string, connectString: string): Promise<ChildBroker> {
  const port = await freePort();
  return startChildBroker({
    dir,
    port,
    store: `file://${join(dir, 'data')}`,
    bindings: [],
    registry: `zk://${connectString}?sessionTimeoutMs=2000`,
    args: ['--advertise', `127.0.0.1:${port}`, '--recover-interval-ms', '1000'],
  });
}

/** A group that binds now (after the fault) must be picked up: watches survived. */
async function lateGroupReceives(registry: string): Promise<void> {
  const got = new Set<string>();
  const binding = directBinding('s-late', 'trade', 'pay-succ', { watermark: 100_000 });
  const late = new KiteQClient({
    registry,
    groupId: 's-late',
    secretKey: 'k',
    bindings: [binding],
    listener: (m) => (got.add(m.header.messageId), true),
  });
  const producer = new KiteQClient({ registry, groupId: 'p-late', secretKey: 'k', publishTopics: ['trade'] });
  try {
    await Promise.all([late.start(), producer.start()]);
    await eventually(
      async () => {
        const { messageId } = await producer.send(
          buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'late' }),
        );
        return eventually(() => got.has(messageId), 1000, 'late delivery', 20).then(
          () => true,
          () => false,
        );
      },
      20_000,
      'a group bound after the fault receives',
      100,
    );
  } finally {
    await Promise.all([late.close(), producer.close()]);
  }
}

describe('fault - ZooKeeper stopped and started again', function () {
  this.timeout(OUTAGE_MS + 90_000);
  let zookeeper: ZooKeeperServer;
  let dir: string;
  let broker: ChildBroker;
  let stream: Stream | undefined;

  before(async () => {
    dir = tempDir('kiteq-fault-zk-');
    zookeeper = await startZooKeeper({ tickTimeMs: 200 });
    broker = await zkBroker(dir, zookeeper.connectString);
  });
  after(async () => {
    await stream?.close();
    await broker?.process.kill('SIGKILL');
    await zookeeper?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps delivering through a ${OUTAGE_MS / 1000} s outage and follows new bindings afterwards`, async () => {
    const registry = `zk://${zookeeper.connectString}`;
    stream = await startStream({ registry, producers: 4, window: 4, pauseMs: 2 });
    const { figures } = stream;
    await eventually(() => figures.delivered.size >= 500, 20_000, '500 deliveries before the outage', 10);
    await zookeeper.kill('SIGTERM');
    const ackedAtStop = figures.acked.size;
    const deliveredAtStop = figures.delivered.size;
    await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage itself
    const duringOutage = {
      acked: figures.acked.size - ackedAtStop,
      delivered: figures.delivered.size - deliveredAtStop,
    };
    await zookeeper.start();
    await lateGroupReceives(registry);
    await stream.stop();
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      100,
    );
    figures.print('zookeeper-stopped', { outageMs: OUTAGE_MS, duringOutage });
    assert.ok(duringOutage.delivered > 0, 'delivery went on while ZooKeeper was down');
    assert.equal(figures.lost.length, 0);
  });
});

describe('fault - broker ZooKeeper session expired by a network cut', function () {
  this.timeout(90_000);
  let zookeeper: ZooKeeperServer;
  let proxy: ZooKeeperProxy;
  let raw: ZkClient;
  let dir: string;
  let broker: ChildBroker;
  let stream: Stream | undefined;

  before(async () => {
    dir = tempDir('kiteq-fault-zk-expiry-');
    zookeeper = await startZooKeeper({ tickTimeMs: 200 });
    proxy = await startZooKeeperProxy(zookeeper.port);
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
    broker = await zkBroker(dir, proxy.connectString);
  });
  after(async () => {
    await stream?.close();
    await broker?.process.kill('SIGKILL');
    await raw?.close();
    await proxy?.close();
    await zookeeper?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-creates its znodes under a new session, and the stream loses nothing', async () => {
    const registry = `zk://${zookeeper.connectString}`;
    stream = await startStream({ registry, producers: 4, window: 4, pauseMs: 2 });
    const { figures } = stream;
    await eventually(() => figures.delivered.size >= 500, 20_000, '500 deliveries before the cut', 10);
    const alive = `/kiteq/alive_servers/${broker.address}`;
    const oldOwner = (await raw.exists(alive))!.ephemeralOwner.toString('hex');
    proxy.cut();
    await eventually(
      async () => (await raw.exists(alive)) === undefined,
      15_000,
      'ZooKeeper to expire the broker session (its ephemeral znode gone)',
      100,
    );
    proxy.restore();
    await eventually(
      async () => {
        const stat = await raw.exists(alive);
        return stat !== undefined && stat.ephemeralOwner.toString('hex') !== oldOwner;
      },
      20_000,
      'alive_servers znode re-created under a new session',
      100,
    );
    assert.ok(await raw.exists(`/kiteq/server/trade/${broker.address}`), 'server znode re-created');
    const acked = figures.acked.size;
    await eventually(() => figures.acked.size > acked + 200, 20_000, 'the stream goes on', 10);
    await stream.stop();
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      100,
    );
    figures.print('zookeeper-session-expiry');
    assert.equal(figures.lost.length, 0);
  });
});

describe('fault - 3-node ZooKeeper ensemble loses its leader', function () {
  this.timeout(120_000);
  let ensemble: ZooKeeperEnsemble;
  let dir: string;
  let broker: ChildBroker;
  let stream: Stream | undefined;

  before(async () => {
    dir = tempDir('kiteq-fault-zk-ensemble-');
    ensemble = await startEnsemble(3, { tickTimeMs: 200 });
    broker = await zkBroker(dir, ensemble.connectString);
  });
  after(async () => {
    await stream?.close();
    await broker?.process.kill('SIGKILL');
    await ensemble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps delivering, and bindings stay in force, through a leader election', async () => {
    const registry = `zk://${ensemble.connectString}`;
    stream = await startStream({ registry, producers: 4, window: 4, pauseMs: 2 });
    const { figures } = stream;
    await eventually(() => figures.delivered.size >= 500, 20_000, '500 deliveries before the leader dies', 10);
    const leader = await ensemble.leader();
    await leader.kill('SIGKILL');
    await ensemble.waitForQuorum(2);
    const acked = figures.acked.size;
    await eventually(() => figures.acked.size > acked + 500, 20_000, 'the stream goes on after the election', 10);
    await lateGroupReceives(registry);
    await stream.stop();
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      100,
    );
    figures.print('zookeeper-leader-lost', { killedLeader: leader.id });
    assert.equal(figures.lost.length, 0);
  });
});
