// doc/architecture.md §3, §6: a message with no bound group is kept until one binds; persistent=false with no
// consumer online counts as delivered; a persistent group waits for its consumer.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { type Binding, directBinding } from '../binding/binding';
import { FileRegistry } from '../binding/file-registry';
import { buildStringMessage, KiteQClient, type MessageListener } from '../client';
import { VirtualClock } from '../server/clock';
import { countdown, eventually } from './support/events';
import { startBroker, tempDir, type TestBroker } from './support/broker';
import { writeRegistryFile } from './support/registry-file';
import { type HeldPool, holdThreadPool } from './support/thread-pool';

describe('delivery bindings - no group bound, persistent and non-persistent groups', function () {
  this.timeout(30_000);
  let env: TestBroker;
  let clock: VirtualClock;
  let pool: HeldPool | undefined;
  const clients: KiteQClient[] = [];

  afterEach(async () => {
    await pool?.release();
    pool = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await env.stop();
  });

  async function client(groupId: string, listener?: MessageListener): Promise<KiteQClient> {
    const c = new KiteQClient({
      registry: env.registryUri,
      groupId,
      secretKey: 'k',
      publishTopics: ['trade'],
      listener,
    });
    clients.push(c);
    await c.start();
    return c;
  }

  it('keeps a message published with no binding and delivers it once a group binds', async () => {
    // A busy thread pool (a loaded machine) from before the broker watches its registry until after
    // the rewrite: fs.watchFile took its baseline stat there, after the rewrite, and never saw it
    // (1 full run in 5 timed out); the registry's own reads do not wait on the pool.
    pool = holdThreadPool();
    env = await startBroker({ bindings: [] });
    const got = countdown(1, 10_000, 'delivery after the binding appeared');
    const seen: string[] = [];
    await client('s-late', (m) => (seen.push(m.header.messageId), got.tick(), true));
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'nobody listens yet' }),
    );
    await eventually(
      async () => ((await env.broker.store.get(messageId))?.nextDeliverTime ?? 0) > Date.now() / 1000 + 30,
      5000,
      'the message parked in the store',
    );
    assert.deepEqual(await env.broker.store.countsByTopic(), { trade: 1 }, 'kept, not deleted');
    assert.deepEqual(seen, []);
    writeRegistryFile(
      env.dir,
      [{ address: env.address, topics: ['trade'] }],
      [directBinding('s-late', 'trade', 'pay-succ')],
    );
    await pool.release();
    await got.done; // FileRegistry re-reads the file within a second; the binding change re-drives it
    assert.deepEqual(seen, [messageId]);
    await eventually(async () => Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'finished');
  });

  it('counts a non-persistent group with no consumer online as delivered', async () => {
    env = await startBroker({ bindings: [directBinding('s-volatile', 'trade', 'pay-succ', { persistent: false })] });
    const producer = await client('p-trade');
    await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'fire and forget' }));
    await eventually(
      async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
      5000,
      'finished without a consumer',
    );
    assert.equal(env.broker.retryScheduledCount, 0);
    assert.deepEqual(await env.broker.listDeadLetters({ limit: 10 }), []);
  });

  it('keeps a message for a persistent group with no consumer, burning no attempt, and delivers when one connects', async () => {
    clock = new VirtualClock();
    env = await startBroker({ bindings: [directBinding('s-durable', 'trade', 'pay-succ')], brokerOptions: { clock } });
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'wait for me' }),
    );
    // doc/architecture.md §6: persistent groups wait for their consumers — parked, not failed, not retried
    const parked = await eventually(
      async () => {
        const stored = await env.broker.store.get(messageId);
        return stored && env.broker.inFlightCount === 0 && stored.nextDeliverTime > stored.publishTime
          ? stored
          : undefined;
      },
      5000,
      'parked for the offline group',
    );
    assert.deepEqual([parked!.deliverCount, parked!.failGroups, env.broker.retryScheduledCount], [0, [], 0]);
    // The group's first consumer re-drives it at once: no clock advance needed.
    const got = countdown(1, 5000, 'delivery to the late consumer');
    const seen: string[] = [];
    await client('s-durable', (m) => (seen.push(m.header.messageId), got.tick(), true));
    await got.done;
    assert.deepEqual(seen, [messageId]);
    await eventually(async () => Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'finished');
  });

  it('looks at a message parked for hours about hourly, and delivers it the moment its consumer connects', async () => {
    clock = new VirtualClock();
    env = await startBroker({ bindings: [directBinding('s-away', 'trade', 'pay-succ')], brokerOptions: { clock } });
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'a long wait' }),
    );
    const stored = async () => (await env.broker.store.get(messageId))!;
    await eventually(async () => (await stored()).nextDeliverTime > (await stored()).publishTime, 5000, 'parked');
    const gaps: number[] = [];
    let due = (await stored()).nextDeliverTime;
    for (let minute = 0; minute < 3 * 60; minute++) {
      clock.advance(60_000); // the periodic scan (recoverIntervalMs) finds it due and parks it again
      await eventually(() => !env.broker.recoveryScanning, 5000, 'the scan ended', 1);
      const next = (await stored()).nextDeliverTime;
      if (next !== due) gaps.push(next - Math.floor(clock.nowMs() / 1000));
      due = next;
    }
    assert.ok(gaps.length >= 5 && gaps.length <= 9, `rechecked ${gaps.length} times in 3 h: ${gaps}`);
    assert.ok(gaps.at(-1)! > 1800 && gaps.at(-1)! <= 3600, `last gap ${gaps.at(-1)} s`);
    assert.equal((await stored()).deliverCount, 0, 'no attempt burned');
    // However far off its recheck, the group's first consumer still gets it at once.
    const got = countdown(1, 5000, 'delivery to the consumer that came back');
    await client('s-away', () => (got.tick(), true));
    await got.done;
    await eventually(async () => Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'finished');
  });

  it('delivers to a waiting group whose consumer connected while the message was in flight to another group', async () => {
    clock = new VirtualClock(); // frozen: no recheck and no periodic scan can deliver it
    env = await startBroker({
      bindings: [directBinding('s-online', 'trade', 'pay-succ'), directBinding('s-late', 'trade', 'pay-succ')],
      brokerOptions: { clock },
    });
    let ack!: (ok: boolean) => void;
    const held = countdown(1, 5000, 'delivery to s-online');
    await client('s-online', () => new Promise<boolean>((resolve) => ((ack = resolve), held.tick())));
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'for both groups' }),
    );
    await held.done; // in flight to s-online; s-late has no consumer yet, so it waits (doc/architecture.md §6)
    const got = countdown(1, 5000, 'delivery to s-late');
    const seen: string[] = [];
    await client('s-late', (m) => (seen.push(m.header.messageId), got.tick(), true));
    // Its arrival's re-drive scan passes the message by (in flight): it must not be left parked.
    await eventually(() => !env.broker.recoveryScanning, 5000, 'the re-drive scan for s-late ended');
    ack(true);
    await got.done;
    assert.deepEqual(seen, [messageId]);
    await eventually(async () => Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'finished');
  });
});

describe('delivery bindings - the file registry reports every rewrite of the file', function () {
  const brokers = [{ address: '127.0.0.1:13800', topics: ['trade'] }];
  let dir: string;
  let registry: FileRegistry | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Watches 'trade' with a 50 ms poll; `notified` resolves with the first `n` notifications. */
  async function watch(path: string, n: number): Promise<{ notified: Promise<Binding[][]> }> {
    registry = new FileRegistry(path, undefined, 50);
    const seen: Binding[][] = [];
    const got = countdown(n, 5000, 'binding notifications');
    await registry.watchBindings(['trade'], (bindings) => (seen.push(bindings), got.tick()));
    return { notified: got.done.then(() => seen) };
  }

  it('reports a rewrite made right after it began watching', async () => {
    const path = writeRegistryFile(dir, brokers, []);
    const { notified } = await watch(path, 2);
    // before fs.watchFile's asynchronous baseline stat: it hid this write (the flaky test above)
    writeRegistryFile(dir, brokers, [directBinding('s-late', 'trade', 'pay-succ')]);
    assert.deepEqual(
      (await notified).map((bindings) => bindings.map((b) => b.groupId)),
      [[], ['s-late']],
    );
  });

  it('reports a rewrite of the same size within the same timestamp tick', async () => {
    const path = writeRegistryFile(dir, brokers, [directBinding('s-late', 'trade', 'pay-succ', { watermark: 6000 })]);
    const { notified } = await watch(path, 2);
    writeRegistryFile(dir, brokers, [directBinding('s-late', 'trade', 'pay-succ', { watermark: 7000 })]);
    assert.deepEqual(
      (await notified).map((bindings) => bindings.map((b) => b.watermark)),
      [[6000], [7000]],
    );
  });
});

describe('delivery bindings - the file registry caught mid-write', function () {
  it('keeps the bindings in force while the file is empty, and takes the next full text', async () => {
    const dir = tempDir();
    const brokers = [{ address: '127.0.0.1:13800', topics: ['trade'] }];
    const path = writeRegistryFile(dir, brokers, [directBinding('s-mc', 'trade', 'pay-succ')]);
    const registry = new FileRegistry(path, undefined, 50);
    try {
      const seen: string[][] = [];
      const got = countdown(2, 5000, 'binding notifications');
      await registry.watchBindings(['trade'], (bindings) => (seen.push(bindings.map((b) => b.groupId)), got.tick()));
      writeFileSync(path, ''); // a writer that truncated and has not written yet
      // the registry reads the empty text at its next poll: wait for that read, not for a time
      await eventually(async () => (registry as unknown as { text: string }).text === '', 5000, 'the empty file read');
      writeRegistryFile(dir, brokers, [
        directBinding('s-mc', 'trade', 'pay-succ'),
        directBinding('s-risk', 'trade', 'pay-succ'),
      ]);
      await got.done;
      assert.deepEqual(seen, [['s-mc'], ['s-mc', 's-risk']], 'never an empty set of bindings');
    } finally {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
