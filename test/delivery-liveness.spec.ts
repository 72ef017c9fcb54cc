// doc/architecture.md §6: a consumer that dies (socket closed) or stops heartbeating (evicted after
// clientIdleMs) has its unacked deliveries retried to another consumer of the group at once,
// not after the delivery timeout.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { countdown, eventually } from './support/events';
import { startBroker, type TestBroker } from './support/broker';

const FIXTURE = join(__dirname, 'fixtures', 'delivery-consumer.js');
const DELIVERY_TIMEOUT_MS = 30_000;

interface ChildConsumer {
  child: ChildProcess;
  received: Set<string>;
}

async function startChildConsumer(env: TestBroker, heartbeatMs: number): Promise<ChildConsumer> {
  const child = spawn(
    process.execPath,
    [FIXTURE, env.registryUri, 's-pool', 'trade', 'pay-succ', String(heartbeatMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const received = new Set<string>();
  const ready = countdown(1, 15_000, 'child consumer ready');
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { id?: string; event?: string };
    if (event.id) received.add(event.id);
    else if (event.event === 'ready') ready.tick();
  });
  await ready.done;
  return { child, received };
}

describe('delivery liveness - a consumer dies or goes silent mid-stream', function () {
  this.timeout(60_000);
  let env: TestBroker;
  const clients: KiteQClient[] = [];
  let childConsumer: ChildConsumer | null = null;

  afterEach(async () => {
    if (childConsumer && childConsumer.child.exitCode === null && childConsumer.child.signalCode === null) {
      const exited = new Promise((r) => childConsumer!.child.once('exit', r));
      childConsumer.child.kill('SIGKILL');
      await exited;
    }
    childConsumer = null;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await env.stop();
  });

  /** Starts the in-process consumer (acks everything) and the producer, publishes `total`. */
  async function run(
    total: number,
    heartbeatMs: number,
    disable: (child: ChildProcess) => void,
  ): Promise<{ ids: string[]; recoveredInMs: number; heldByChild: number }> {
    const survivor = new Map<string, number>();
    const everything = countdown(total, 30_000, 'messages at the surviving consumer');
    const binding = directBinding('s-pool', 'trade', 'pay-succ', { watermark: 100_000 });
    childConsumer = await startChildConsumer(env, heartbeatMs);
    const keeper = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-pool',
      secretKey: 'k',
      bindings: [binding],
      heartbeatMs,
      listener: (m) => {
        if (!survivor.has(m.header.messageId)) everything.tick();
        survivor.set(m.header.messageId, (survivor.get(m.header.messageId) ?? 0) + 1);
        return true;
      },
    });
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      heartbeatMs,
    });
    clients.push(keeper, producer);
    await keeper.start();
    await producer.start();
    const acks = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m${i}` })),
      ),
    );
    const ids = acks.map((a) => a.messageId);
    const child = childConsumer;
    await eventually(
      () => child.received.size + survivor.size === total,
      10_000,
      'every message at one consumer or the other',
    );
    const heldByChild = child.received.size;
    assert.ok(heldByChild > 0, 'the child consumer holds unacked deliveries');
    const disabledAt = Date.now();
    disable(child.child);
    await everything.done;
    return { ids, recoveredInMs: Date.now() - disabledAt, heldByChild };
  }

  it("retries a SIGKILLed consumer's unacked messages to the other consumer at once", async () => {
    env = await startBroker({
      bindings: [directBinding('s-pool', 'trade', 'pay-succ', { watermark: 100_000 })],
      config: { deliveryTimeoutMs: DELIVERY_TIMEOUT_MS },
    });
    const { recoveredInMs, heldByChild } = await run(400, 10_000, (child) => child.kill('SIGKILL'));
    assert.ok(
      recoveredInMs < 5000,
      `${heldByChild} unacked messages reached the other consumer ${recoveredInMs} ms after the kill (timeout ${DELIVERY_TIMEOUT_MS} ms)`,
    );
    assert.equal(env.broker.counters.total.deadLettered, 0);
  });

  it('evicts a consumer that stops heartbeating (SIGSTOP) and retries its unacked messages', async () => {
    const clientIdleMs = 1500;
    env = await startBroker({
      bindings: [directBinding('s-pool', 'trade', 'pay-succ', { watermark: 100_000 })],
      config: { deliveryTimeoutMs: DELIVERY_TIMEOUT_MS, clientIdleMs },
    });
    const { recoveredInMs, heldByChild } = await run(400, 300, (child) => child.kill('SIGSTOP'));
    assert.ok(recoveredInMs >= clientIdleMs - 400, `not before the idle limit (${recoveredInMs} ms)`);
    assert.ok(
      recoveredInMs < clientIdleMs + 4000,
      `${heldByChild} unacked messages reached the other consumer ${recoveredInMs} ms after the freeze (idle limit ${clientIdleMs} ms, timeout ${DELIVERY_TIMEOUT_MS} ms)`,
    );
  });
});
