// `kiteq-bench http --pull` (bench/http-pull.ts, doc/http-gateway.md "Pull consume" "Measured"): a
// short run against a broker started by the test pulls and acks every message a bench producer
// published, once each, with its latency and the broker's CPU per message.
import assert from 'node:assert/strict';
import { runHttpPull } from '../bench/http-pull';
import { runNativePublish } from '../bench/kiteq-http';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';

describe('bench - kiteq-bench http --pull', function () {
  this.timeout(60_000);
  const env = withBroker({ bindings: [], config: { gateway: '127.0.0.1:0' } });

  it('pulls and acks every published bench message once, with latency and broker CPU', async () => {
    const common = { topic: 'trade', messageType: 'pay-succ', secretKey: 'k' };
    const pulled = runHttpPull({
      ...common,
      gateway: env.broker.gatewayAddress,
      groupId: 's-bench',
      pollers: 2,
      max: 100,
      waitSec: 0.5,
      durationSec: 4,
      brokerPid: process.pid,
    });
    // the pollers' first poll binds s-bench before the producer starts
    await eventually(() => env.broker.bindingTable.bindings.some((b) => b.groupId === 's-bench'), 5000, 'bound');
    const published = await runNativePublish({
      ...common,
      gateway: env.broker.gatewayAddress,
      registry: env.registryUri,
      groupId: 'p-bench',
      producers: 2,
      inFlight: 4,
      messageSize: 64,
      messages: 500,
    });
    assert.equal(published.acked, 500, published.firstError);
    const result = await pulled;
    assert.deepEqual([result.received, result.duplicates], [500, 0]);
    assert.equal(result.deliver.count, 500);
    assert.ok(result.polls > 0 && result.brokerCpu!.perMessageUs > 0);
    assert.equal(env.broker.inFlightCount, 0, 'every pulled message acked');
  });
});
