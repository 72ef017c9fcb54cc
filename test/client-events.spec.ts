// The client is observable: status() and typed events for each broker link, with on()
// returning the unsubscribe (doc/client.md).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { directBinding } from '../binding/binding';
import { FileRegistry } from '../binding/file-registry';
import { type ClientEventName, type ClientEvents, KiteQClient } from '../client';
import { CmdType } from '../protocol/commands';
import { decodeDeliverAck } from '../protocol/messages/deliver-ack';
import { encodeMessage } from '../protocol/messages/message';
import { tempDir } from './support/broker';
import { countdown } from './support/events';
import { FakeBroker } from './support/fake-broker';
import { aHeader } from './support/messages';
import { writeRegistryFile } from './support/registry-file';

describe('client - status and events', function () {
  this.timeout(20_000);
  let fake: FakeBroker;
  let dir: string;
  let registry: FileRegistry;
  let client: KiteQClient;
  const seen: { event: ClientEventName; payload: ClientEvents[ClientEventName] }[] = [];

  beforeEach(async () => {
    fake = await FakeBroker.start();
    dir = tempDir();
    registry = new FileRegistry(writeRegistryFile(dir, [{ address: fake.address, topics: ['trade'] }], []));
    client = new KiteQClient({
      registry,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    });
    seen.length = 0;
  });

  afterEach(async () => {
    await client.close();
    await registry.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function record(...events: ClientEventName[]): (() => void)[] {
    return events.map((event) => client.on(event, (payload) => seen.push({ event, payload })));
  }

  it('reports start, a lost connection, the reconnect and the broker leaving', async () => {
    record('bindings-changed', 'broker-added', 'connect', 'disconnect', 'reconnecting', 'broker-removed');
    assert.equal(client.status().state, 'new');
    await client.start();
    assert.deepEqual(client.status(), {
      state: 'running',
      brokers: [{ address: fake.address, state: 'connected', topics: ['trade'], listed: true, reconnectAttempt: 0 }],
      inFlight: { deliveries: 0, sends: 0 },
    });

    const reconnected = countdown(2, 10_000, 'connect events');
    client.on('connect', () => reconnected.tick());
    reconnected.tick(); // the first connect came before this listener
    (await fake.connection(0, 5000)).close();
    await reconnected.done;

    const removed = countdown(1, 10_000, 'broker-removed');
    client.on('broker-removed', () => removed.tick());
    writeFileSync(registry.path, stringify({ brokers: [], bindings: [] }));
    registry.reload();
    assert.equal(client.status().brokers[0].listed, false); // kept while connected
    (await fake.connection(1, 5000)).close();
    await removed.done;
    assert.deepEqual(client.status().brokers, []);

    const names = seen.map((s) => s.event);
    assert.deepEqual(names, [
      'bindings-changed',
      'broker-added',
      'connect',
      'disconnect',
      'reconnecting',
      'connect',
      'disconnect',
      'broker-removed',
    ]);
    assert.deepEqual(seen[0].payload, { bindings: [directBinding('s-mc', 'trade', 'pay-succ')] });
    assert.deepEqual(seen[1].payload, { broker: fake.address, topics: ['trade'] });
    const reconnecting = seen[4].payload as ClientEvents['reconnecting'];
    assert.deepEqual([reconnecting.broker, reconnecting.attempt, reconnecting.delayMs > 0], [fake.address, 0, true]);
  });

  it('stops calling a listener once unsubscribed', async () => {
    const [offConnect] = record('connect');
    await client.start();
    offConnect();
    const reconnected = countdown(1, 10_000, 'connect after the unsubscribe');
    client.on('connect', () => reconnected.tick());
    (await fake.connection(0, 5000)).close();
    await reconnected.done;
    assert.deepEqual(
      seen.map((s) => s.event),
      ['connect'],
    );
  });

  it('reports a listener that throws as an error event and a negative ack', async () => {
    client.setMessageListener(() => {
      throw new Error('cannot handle this one');
    });
    const errors: ClientEvents['error'][] = [];
    client.on('error', (e) => errors.push(e));
    await client.start();
    const header = aHeader();
    const connection = await fake.connection(0, 5000);
    connection.sendPacket(
      5,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'x' }),
    );
    const ack = decodeDeliverAck((await connection.next((f) => f.cmdType === CmdType.DELIVER_ACK, 5000)).body);
    assert.deepEqual([ack.messageId, ack.status, ack.feedback], [header.messageId, false, 'cannot handle this one']);
    assert.deepEqual(
      errors.map((e) => [e.error.message, e.broker, e.messageId]),
      [['cannot handle this one', fake.address, header.messageId]],
    );
  });

  it('acks what the listener answers, at once or through a promise: true, false, a rejection', async () => {
    const answers = new Map<string, () => boolean | Promise<boolean>>();
    client.setMessageListener((message) => answers.get(message.header.messageId)!());
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.error.message));
    await client.start();
    const cases: [() => boolean | Promise<boolean>, boolean, string][] = [
      [() => true, true, ''],
      [() => false, false, ''],
      [async () => true, true, ''],
      [() => new Promise((resolve) => setTimeout(() => resolve(false), 5)), false, ''],
      [() => Promise.reject(new Error('later, no')), false, 'later, no'],
    ];
    const connection = await fake.connection(0, 5000);
    for (const [i, [answer, status, feedback]] of cases.entries()) {
      const header = aHeader();
      answers.set(header.messageId, answer);
      connection.sendPacket(
        10 + i,
        CmdType.BYTES_MESSAGE,
        encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: Buffer.from([i]) }),
      );
      const frame = await connection.next((f) => f.cmdType === CmdType.DELIVER_ACK, 5000);
      const ack = decodeDeliverAck(frame.body);
      assert.deepEqual(
        [frame.opaque, ack.messageId, ack.status, ack.feedback ?? ''],
        [10 + i, header.messageId, status, feedback],
        `case ${i}`,
      );
    }
    assert.deepEqual(errors, ['later, no']);
  });

  it('keeps the client running when an event listener throws', async () => {
    client.on('connect', () => {
      throw new Error('a listener bug');
    });
    await client.start();
    assert.equal(client.status().brokers[0].state, 'connected');
  });
});
