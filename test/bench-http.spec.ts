// `kiteq-bench http` (bench/kiteq-http.ts, doc/http-gateway.md "Performance"): a short run over the
// gateway of a broker started by the test acks every message, a native consumer receives them all,
// and the CPU figures are per acked message, also with --batch (messages:batch); a refusing gateway
// shows up as failures, not acks.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { runHttpPublish, runNativePublish } from '../bench/kiteq-http';
import { countdown } from './support/events';
import { withBroker } from './support/with-broker';

describe('bench - kiteq-bench http', function () {
  this.timeout(60_000);
  const binding = directBinding('s-bench', 'trade', 'pay-succ', { watermark: 1_000_000 });
  const env = withBroker({
    bindings: [binding],
    config: {
      gateway: '127.0.0.1:0',
      groups: [
        { groupId: 'p-bench', secretKey: 'k', publish: ['trade'] },
        { groupId: 's-bench', secretKey: 'k' },
      ],
    },
  });
  const options = () => ({
    gateway: env.broker.gatewayAddress,
    registry: env.registryUri,
    topic: 'trade',
    messageType: 'pay-succ',
    groupId: 'p-bench',
    secretKey: 'k',
    producers: 2,
    inFlight: 4,
    messageSize: 256,
    messages: 600,
    brokerPid: process.pid,
  });

  it('publishes every message over HTTP (201) and natively, each received once by a native consumer', async () => {
    const received = countdown(1200, 30_000, 'deliveries');
    await env.startClient({ groupId: 's-bench', bindings: [binding], listener: () => (received.tick(), true) });
    const native = await runNativePublish(options());
    const http = await runHttpPublish(options());
    for (const result of [native, http]) {
      assert.deepEqual([result.sent, result.acked, result.failed], [600, 600, 0], result.firstError);
      assert.ok(result.tps > 0);
      assert.ok(result.cpu.broker!.perMessageUs > 0 && result.cpu.generator.perMessageUs > 0);
    }
    await received.done;
  });

  it('--batch 10 publishes ten messages per request (messages:batch), each acked once and received once', async () => {
    const received = countdown(600, 30_000, 'deliveries');
    await env.startClient({ groupId: 's-bench', bindings: [binding], listener: () => (received.tick(), true) });
    const result = await runHttpPublish({ ...options(), batch: 10 });
    assert.deepEqual([result.sent, result.acked, result.failed, result.batch], [600, 600, 0, 10], result.firstError);
    assert.ok(result.request.p50 > 0 && result.request.p99 >= result.request.p50);
    assert.ok(result.cpu.broker!.perMessageUs > 0);
    await received.done;
  });

  it('counts refused publishes as failures with the reason (wrong key: 401)', async () => {
    // another group for the batches: the first run's 20 refusals blocked p-bench from this address (429)
    for (const [batch, groupId] of [
      [1, 'p-bench'],
      [10, 's-bench'],
    ] as const) {
      const result = await runHttpPublish({ ...options(), groupId, secretKey: 'wrong', messages: 20, batch });
      assert.equal(result.acked, 0);
      assert.equal(result.failed, 20);
      assert.match(String(result.firstError), /^401 .*authentication failed/);
    }
  });
});
