// doc/scaling.md "Several brokers": `kiteq-bench cluster` at small scale. Two brokers as processes on
// one real ZooKeeper and one MariaDB store; producers spread their messages over both, the consumer
// receives from both; one broker is SIGKILLed mid-run and the survivor takes over what it had stored
// (doc/architecture.md §9): every acked message arrives.
import assert from 'node:assert/strict';
import { runCluster } from '../bench/cluster';
import { withTestDatabase } from './support/mariadb';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';

describe('several brokers - roundtrip over two brokers, one SIGKILLed mid-run', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let zookeeper: ZooKeeperServer;
  before(async () => {
    zookeeper = await startZooKeeper();
  });
  after(async () => {
    await zookeeper?.stop();
  });

  it('loses no acked message: the survivor delivers the killed broker’s stored messages', async () => {
    const events: string[] = [];
    const result = await runCluster({
      brokers: 2,
      registry: `zk://${zookeeper.connectString}?sessionTimeoutMs=3000`,
      store: database.current.uri(),
      topic: 'trade',
      messageType: 'pay-succ',
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      secretKey: 'k',
      producers: 4,
      inFlight: 10,
      messageSize: 256,
      messages: 4000,
      rate: 1000,
      killAtSec: 2,
      takeoverGraceMs: 300,
      drainTimeoutMs: 15_000,
      log: (line) => events.push(line),
    });
    const [survivor, killed] = result.cluster.brokers;
    assert.equal(killed!.killed, true);
    assert.ok(killed!.stored > 200, `the killed broker took its share before the kill: ${killed!.stored}`);
    assert.ok(survivor!.stored > 1000, `the survivor took the rest: ${survivor!.stored}`);
    assert.ok(killed!.delivered > 0 && survivor!.delivered > 0, 'the consumer received from both');
    // A kill between two deliveries can leave the killed broker nothing unfinished: then there is nothing to adopt.
    if (killed!.stored > killed!.delivered || result.cluster.takeover) {
      assert.ok(result.cluster.takeover, `a takeover happened: ${events.join(' / ')}`);
      assert.equal(result.cluster.takeover.by, survivor!.address);
    }
    assert.ok(result.acked >= 3900, `acked ${result.acked} of ${result.sent}`);
    assert.equal(result.lost, 0, `acked ${result.acked}, received ${result.received}`);
  });
});
