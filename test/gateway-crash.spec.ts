// doc/http-gateway.md "Publish": a 201 means the message is durably stored. The broker (a child
// process, file store) is killed with SIGKILL while HTTP publishers stream over keep-alive
// connections, one message or a batch (messages:batch) per request; every message answered 201 is
// delivered to a native consumer (lost = 0). A publisher
// whose answer was lost retries with the same Kiteq-Message-Id, and a retry after the restart of a
// message stored before the kill answers the stored id without a second copy.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { KiteQClient } from '../client';
import { type ChildBroker, StreamFigures, startChildBroker } from './fixtures/fault/harness';
import { STREAM_BINDING } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { countdown, eventually } from './support/events';
import { newMessageId } from './support/messages';
import { agentPublish, agentPublishBatch } from './support/gateway-http';
import { freePort } from './support/ports';

const KILLS = 3;
const LANES = 4;
const HELD = directBinding('s-held', 'trade', 'held');
const ONCE = directBinding('s-once', 'trade', 'once');
const BATCH = directBinding('s-batch', 'trade', 'batch');
const BATCH_SIZE = 20;

/** POST a message with its Kiteq-Message-Id; the status, or 0 when the connection failed. */
async function post(agent: Agent, gateway: string, id: string, messageType: string): Promise<number> {
  return (await postFor(agent, gateway, id, messageType)).status;
}

const postFor = (agent: Agent, gateway: string, id: string, messageType: string) =>
  agentPublish(agent, gateway, 'p-http:k', messageType, `body of ${id}`, { 'kiteq-message-id': id });

describe('gateway - broker SIGKILL while HTTP publishers stream (file store)', function () {
  this.timeout(180_000);
  let dir: string;
  let broker: ChildBroker;
  let gateway: string;
  let admin: string;
  const clients: KiteQClient[] = [];

  before(async () => {
    dir = tempDir('kiteq-gateway-kill-');
    gateway = `127.0.0.1:${await freePort()}`;
    admin = `127.0.0.1:${await freePort()}`;
    broker = await startChildBroker({
      dir,
      store: `file://${join(dir, 'data')}?fsync=batch`,
      bindings: [STREAM_BINDING, HELD, ONCE, BATCH],
      args: ['--gateway', gateway, '--http', admin, '--recover-interval-ms', '1000'],
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * SIGKILLs the broker KILLS times while the lanes publish, each after `step` to `step + spread`
   * more answered messages, restarting it each time; resolves with the answered counts at the kills
   * once `resume` more are answered after the last restart.
   */
  const killUnderLoad = async (
    figures: StreamFigures,
    o: { step: number; spread: number; resume: number },
  ): Promise<number[]> => {
    const killedAtAcked: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const target = figures.acked.size + o.step + Math.floor(Math.random() * o.spread);
      await eventually(() => figures.acked.size >= target, 60_000, `${target} acks before kill ${k + 1}`, 5);
      killedAtAcked.push(figures.acked.size);
      await broker.process.kill('SIGKILL');
      broker = { ...broker, process: await broker.process.restart() };
    }
    const progress = figures.acked.size;
    await eventually(
      () => figures.acked.size > progress + o.resume,
      60_000,
      'publishing resumes after the last restart',
      5,
    );
    return killedAtAcked;
  };

  /** Waits until every answered message of the stream is delivered, prints the figures, and asserts none lost. */
  const allDelivered = async (figures: StreamFigures, what: string, name: string, extra: Record<string, unknown>) => {
    await eventually(
      () => figures.allAckedDelivered(),
      90_000,
      `${what} delivered (${figures.lost.length} missing)`,
      200,
    );
    figures.print(name, { kills: KILLS, ...extra });
    assert.equal(figures.lost.length, 0);
  };

  const consumer = async (groupId: string, binding = STREAM_BINDING, onMessage: (id: string) => void) => {
    const client = new KiteQClient({
      registry: broker.registryUri,
      groupId,
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => (onMessage(m.header.messageId), true),
    });
    clients.push(client);
    await client.start();
    return client;
  };

  it('delivers every message answered 201 (lost = 0), retries keeping their Kiteq-Message-Id', async () => {
    const figures = new StreamFigures();
    await consumer('s-fault', STREAM_BINDING, (id) => figures.deliver(id));
    const agent = new Agent({ keepAlive: true, maxSockets: LANES });
    let running = true;
    const lane = async () => {
      while (running) {
        const id = newMessageId();
        figures.sent++;
        // the same id until it is answered 201: a lost answer, a refusal while restarting
        for (;;) {
          const status = await post(agent, gateway, id, 'pay-succ');
          if (status === 201) {
            figures.ack(id);
            break;
          }
          figures.refused++;
          if (!running) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const lanes = Array.from({ length: LANES }, lane);
    const killedAtAcked = await killUnderLoad(figures, { step: 300, spread: 700, resume: 200 });
    running = false;
    await Promise.all(lanes);
    agent.destroy();
    await allDelivered(figures, 'every 201-answered message', 'gateway-broker-kill-file', { killedAtAcked });
  });

  it('delivers every message of every batch answered 201 (lost = 0), batches retried with their messageIds', async () => {
    const figures = new StreamFigures();
    await consumer('s-batch', BATCH, (id) => figures.deliver(id));
    const agent = new Agent({ keepAlive: true, maxSockets: LANES });
    let running = true;
    const lane = async () => {
      while (running) {
        let batch = Array.from({ length: BATCH_SIZE }, () => newMessageId()).map((messageId) => ({
          messageId,
          body: `body of ${messageId}`,
        }));
        figures.sent += batch.length;
        // until every message is answered stored: the whole batch again after a lost answer or a
        // refusal while restarting, the refused ones of a 207 again with their ids
        while (batch.length > 0) {
          const answer = await agentPublishBatch(agent, gateway, 'p-http:k', 'batch', batch);
          const results =
            answer.status === 201 || answer.status === 207
              ? (JSON.parse(answer.body) as { results: { status: number }[] }).results
              : [];
          for (const [i, m] of batch.entries()) if (results[i]?.status === 201) figures.ack(m.messageId);
          batch = batch.filter((_, i) => results[i]?.status !== 201);
          if (batch.length === 0) break;
          figures.refused++;
          if (!running) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const lanes = Array.from({ length: LANES }, lane);
    const killedAtAcked = await killUnderLoad(figures, { step: 1000, spread: 2000, resume: 500 });
    running = false;
    await Promise.all(lanes);
    agent.destroy();
    await allDelivered(figures, 'every message of a 201-answered batch', 'gateway-batch-broker-kill-file', {
      killedAtAcked,
      batch: BATCH_SIZE,
    });
  });

  it('a retry after the restart of a message stored before the kill answers its id, and it is delivered once', async () => {
    const agent = new Agent({ keepAlive: true });
    const id = newMessageId();
    assert.equal(await post(agent, gateway, id, 'held'), 201, 'stored; s-held has no consumer yet, so it stays');
    await broker.process.kill('SIGKILL');
    broker = { ...broker, process: await broker.process.restart() };
    assert.equal(await post(agent, gateway, id, 'held'), 201, 'the retry is answered with the stored message');
    const marker = newMessageId();
    assert.equal(await post(agent, gateway, marker, 'held'), 201);
    agent.destroy();
    const deliveries = new Map<string, number>();
    const both = countdown(2, 30_000, 'the message and the marker');
    await consumer('s-held', HELD, (got) => {
      deliveries.set(got, (deliveries.get(got) ?? 0) + 1);
      if (got === id || got === marker) both.tick();
    });
    await both.done;
    // the marker was published after the retry: had the retry stored a copy, it would have come by now
    await eventually(() => deliveries.get(marker) === 1, 10_000, 'the marker');
    assert.equal(deliveries.get(id), 1);
  });

  it('a retry after a restart of a message delivered and deleted before it answers its id, and stores no copy', async () => {
    const deliveries = new Map<string, number>();
    let onDelivery = (_id: string) => undefined as void;
    await consumer('s-once', ONCE, (got) => {
      deliveries.set(got, (deliveries.get(got) ?? 0) + 1);
      onDelivery(got);
    });
    const waitFor = (wanted: string) => {
      const arrived = countdown(1, 30_000, `delivery of ${wanted}`);
      onDelivery = (got) => got === wanted && arrived.tick();
      return arrived.done;
    };
    const agent = new Agent({ keepAlive: true });
    const id = newMessageId();
    const delivered = waitFor(id);
    assert.equal(await post(agent, gateway, id, 'once'), 201);
    await delivered;
    await eventually(
      async () => (await fetch(`http://${admin}/messages/${id}`)).status === 404,
      10_000,
      'the acked message deleted',
    );
    await broker.process.kill('SIGTERM'); // a clean stop: the store has the delete; only the gateway's memory is gone
    broker = { ...broker, process: await broker.process.restart() };
    const retry = await postFor(agent, gateway, id, 'once');
    assert.equal(retry.status, 201);
    assert.deepEqual(JSON.parse(retry.body), { messageId: id, duplicate: true });
    const marker = newMessageId();
    const markerArrived = waitFor(marker);
    assert.equal(await post(agent, gateway, marker, 'once'), 201);
    await markerArrived;
    agent.destroy();
    assert.equal(deliveries.get(id), 1, 'delivered once: the retry stored no second copy');
  });
});
