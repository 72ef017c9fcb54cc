// The benchmark harness itself: a short run against a broker started by the test
// yields a result whose counts add up; a proxy that loses, repeats and replays deliveries on
// purpose shows the harness reports exactly that.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { runKiteqRoundtrip } from '../bench/kiteq-roundtrip';
import { runKiteqProducer } from '../bench/kiteq-one-side';
import { makePayload, nowMs, readPayload } from '../bench/peers/payload';
import { sampleProcess } from '../bench/process-cpu';
import { buildBytesMessage, KiteQClient } from '../client';
import { decodeMessage, type MessageCmd } from '../protocol';
import type { Frame } from '../protocol';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, startBroker, tempDir, type TestBroker } from './support/broker';
import { withBroker } from './support/with-broker';
import { type KiteqProxy, startKiteqProxy } from './support/kiteq-proxy';
import { writeRegistryFile } from './support/registry-file';

describe('bench - kiteq roundtrip harness', function () {
  this.timeout(60_000);

  const env = withBroker({ bindings: [directBinding('s-bench', 'trade', 'pay-succ', { watermark: 1_000_000 })] });

  const side = () => ({ registry: env.registryUri, topic: 'trade', messageType: 'pay-succ', secretKey: 'k' });

  it('counts add up for a fault-free run: sent = acked + failed, received ≥ acked, lost = 0', async () => {
    const result = await runKiteqRoundtrip({
      ...side(),
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      producers: 2,
      inFlight: 10,
      messageSize: 512,
      messages: 2000,
      drainTimeoutMs: 5000,
    });
    assert.equal(result.sent, result.acked + result.failed);
    assert.equal(result.sent, 2000);
    assert.equal(result.failed, 0);
    assert.ok(result.received >= result.acked);
    assert.equal(result.lost, 0);
    assert.ok(result.tps > 0);
    assert.ok(result.deliver.count === result.received && result.deliver.p99 >= result.deliver.p50);
    assert.equal(
      result.perSecond.reduce((a, b) => a + b, 0),
      result.acked,
    );
  });

  it('runs transactional messages with --tx', async () => {
    const result = await runKiteqRoundtrip({
      ...side(),
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      producers: 1,
      inFlight: 10,
      messageSize: 128,
      messages: 300,
      tx: true,
      drainTimeoutMs: 5000,
    });
    assert.deepEqual([result.acked, result.received, result.lost], [300, 300, 0]);
  });

  it('at a fixed rate, counts the sends that waited for a free lane of the window', async () => {
    const run = (inFlight: number, rate: number, messages: number) =>
      runKiteqRoundtrip({
        ...side(),
        producerGroup: 'p-bench',
        consumerGroup: 's-bench',
        producers: 1,
        inFlight,
        messageSize: 64,
        messages,
        rate,
        drainTimeoutMs: 5000,
      });
    // one lane at 20,000/s: each send waits for the previous ack (far more than 50 µs away), so
    // the lane falls further behind its schedule with every message
    const narrow = await run(1, 20_000, 500);
    assert.ok(narrow.windowBound! > 250, `window-bound ${narrow.windowBound} of 500`);
    // 20 lanes at 100/s: a lane is free long before each intended time
    const wide = await run(20, 100, 100);
    assert.equal(wide.windowBound, 0);
    assert.equal(wide.lost, 0);
  });

  it('producer-only runs report store-ack latency at a fixed rate', async () => {
    const result = await runKiteqProducer({
      ...side(),
      groupId: 'p-bench',
      producers: 1,
      inFlight: 5,
      messageSize: 64,
      messages: 200,
      rate: 1000,
    });
    assert.deepEqual([result.sent, result.acked, result.failed], [200, 200, 0]);
    assert.ok(result.publishAck.count === 200);
  });

  it('reports the CPU per message of the generator and of the broker process given by pid', async () => {
    // the test broker runs in this process: its pid is ours
    const result = await runKiteqRoundtrip({
      ...side(),
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      producers: 2,
      inFlight: 10,
      messageSize: 512,
      messages: 2000,
      drainTimeoutMs: 5000,
      brokerPid: process.pid,
    });
    const { generator, broker } = result.cpu!;
    assert.ok(generator.userMs + generator.sysMs > 0 && generator.perMessageUs > 0, JSON.stringify(generator));
    assert.equal(broker!.pid, process.pid);
    assert.ok(broker!.perMessageUs > 0 && broker!.peakRssMb! > 10, JSON.stringify(broker));
    assert.throws(() => sampleProcess(2 ** 22 + 1), /cannot read the CPU time of process 4194305/);
  });

  it('reads the CPU another process burned from /proc', async () => {
    // the child burns 400 ms of CPU time, not of wall time: on a loaded machine it may not get a core
    const child = spawn(
      process.execPath,
      [
        '-e',
        'process.stdin.once("data", () => { const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; const end = cpu() + 400; while (cpu() < end); console.log("burned"); process.stdin.once("data", () => process.exit(0)); })',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await once(child, 'spawn');
      const before = sampleProcess(child.pid!);
      child.stdin!.write('go\n');
      await once(child.stdout!, 'data');
      const after = sampleProcess(child.pid!);
      const burned = after.userMs + after.sysMs - (before.userMs + before.sysMs);
      assert.ok(burned >= 380 && burned <= 1000, `${burned} ms of CPU read for 400 ms burned`);
    } finally {
      child.stdin!.write('exit\n');
      await once(child, 'exit');
    }
  });
});

describe('bench - kiteq roundtrip with several consumer groups (--groups N)', function () {
  this.timeout(60_000);
  // s-bench-3 is not bound: the broker never delivers to it, though its consumer connects and asks
  const bound = ['s-bench', 's-bench-1', 's-bench-2'];
  const env = withBroker({
    bindings: bound.map((group) => directBinding(group, 'trade', 'pay-succ', { watermark: 1_000_000 })),
  });
  const run = (groups: number, drainTimeoutMs = 5000) =>
    runKiteqRoundtrip({
      registry: env.registryUri,
      topic: 'trade',
      messageType: 'pay-succ',
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      secretKey: 'k',
      producers: 2,
      inFlight: 10,
      messageSize: 256,
      messages: 1000,
      groups,
      drainTimeoutMs,
    });

  it('every one of 3 groups receives every message: deliveries = 3 × acked, lost 0 and duplicates 0 in each group', async () => {
    const result = await run(3);
    assert.equal(result.acked, 1000);
    assert.deepEqual(result.groups, [
      { groupId: 's-bench', received: 1000, duplicates: 0, lost: 0, stale: 0 },
      { groupId: 's-bench-1', received: 1000, duplicates: 0, lost: 0, stale: 0 },
      { groupId: 's-bench-2', received: 1000, duplicates: 0, lost: 0, stale: 0 },
    ]);
    assert.deepEqual([result.received, result.lost, result.duplicates, result.deliveries], [1000, 0, 0, 3000]);
    assert.equal(result.deliver.count, 3000, 'one latency per first receipt in each group');
    assert.ok(result.deliveriesPerSec! > result.deliveredPerSec && result.deliveredPerSec > 0);
  });

  it('a group that gets nothing is reported lost on its own line, not hidden by the groups that got everything', async () => {
    const result = await run(4, 1500);
    assert.deepEqual(
      result.groups!.map((g) => [g.groupId, g.received, g.lost]),
      [
        ['s-bench', 1000, 0],
        ['s-bench-1', 1000, 0],
        ['s-bench-2', 1000, 0],
        ['s-bench-3', 0, 1000],
      ],
    );
    assert.deepEqual([result.received, result.lost, result.deliveries], [0, 1000, 3000]);
  });
});

describe('bench - a proxy that loses, repeats and replays deliveries', function () {
  this.timeout(60_000);
  const binding = directBinding('s-bench', 'trade', 'pay-succ', { watermark: 1_000_000 });
  let env: TestBroker;
  let proxy: KiteqProxy | undefined;
  let proxyDir: string | undefined;

  beforeEach(async () => {
    env = await startBroker({ bindings: [binding] });
  });
  afterEach(async () => {
    await proxy?.close();
    if (proxyDir) rmSync(proxyDir, { recursive: true, force: true });
    proxy = proxyDir = undefined;
    await env.stop();
  });

  /** A registry that lists the proxy as the broker of 'trade': every bench client goes through it. */
  function viaProxy(address: string): string {
    proxyDir = tempDir();
    return `file://${writeRegistryFile(proxyDir, [{ address, topics: ['trade'] }], [binding])}`;
  }
  // the drain ends 2 s after the last delivery: what the proxy dropped is lost by then
  const run = (registry: string, extra: { messages: number; warmupMessages?: number }) =>
    runKiteqRoundtrip({
      registry,
      topic: 'trade',
      messageType: 'pay-succ',
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      secretKey: 'k',
      producers: 2,
      inFlight: 10,
      messageSize: 64,
      drainTimeoutMs: 2000,
      ...extra,
    });
  const idOf = (frame: Frame): number =>
    readPayload(decodeMessage(frame.cmdType as MessageCmd, frame.body).body as Uint8Array).id;

  it('reports the deliveries it never got as lost and the repeated ones as duplicates, and a replayed warm-up message as stale, not as a receipt', async () => {
    const warmup = 50;
    const dropped = new Set([10, 20, 30]);
    const repeated = new Set([40, 50]);
    const warmFrames = new Map<number, Frame>();
    let replayed = false;
    // The warm-up is drained before the measured phase publishes: the first `warmup` distinct ids
    // are the warm-up's. Ids restart at 0 after it, so its copies of 10, 20, 30 are replayed in
    // place of the measured ones the proxy drops: a harness that takes them for receipts hides the loss.
    proxy = await startKiteqProxy(env.address, (delivery) => {
      const id = idOf(delivery);
      if (warmFrames.size < warmup) {
        warmFrames.set(id, delivery);
        return [delivery];
      }
      const out = replayed ? [] : [...dropped].map((d) => warmFrames.get(d)!);
      replayed = true;
      if (dropped.has(id)) return out; // every delivery of it, the broker's redeliveries too
      out.push(delivery);
      if (repeated.delete(id)) out.push(delivery);
      return out;
    });
    const result = await run(viaProxy(proxy.address), { messages: 200, warmupMessages: warmup });
    assert.deepEqual(
      {
        sent: result.sent,
        acked: result.acked,
        received: result.received,
        lost: result.lost,
        duplicates: result.duplicates,
        stale: result.stale,
      },
      { sent: 200, acked: 200, received: 197, lost: 3, duplicates: 2, stale: 3 },
    );
    assert.equal(result.deliver.count, 197, 'latency on first receipts only');
    assert.deepEqual(result.warmup, { sent: 50, acked: 50, failed: 0, received: 50, duplicates: 0, lost: 0, stale: 0 });
    assert.ok(result.deliveredPerSec > 0);
  });

  it('counts messages of another run waiting for the group (a bench run killed earlier) as stale', async () => {
    // published while the group has no consumer: the broker keeps them and hands them to the
    // bench's consumer as soon as it connects, ids 0..4 like the run's own first five
    const leftover = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-bench',
      secretKey: 'k',
      publishTopics: ['trade'],
    });
    await leftover.start();
    try {
      for (let id = 0; id < 5; id++)
        await leftover.send(
          buildBytesMessage({ topic: 'trade', messageType: 'pay-succ', body: makePayload(id, nowMs(), 64, 7) }),
        );
    } finally {
      await leftover.close();
    }
    const result = await run(env.registryUri, { messages: 100 });
    assert.deepEqual(
      {
        acked: result.acked,
        received: result.received,
        lost: result.lost,
        duplicates: result.duplicates,
        stale: result.stale,
      },
      { acked: 100, received: 100, lost: 0, duplicates: 0, stale: 5 },
    );
  });
});
