// Limits with clear errors (doc/security.md): max connections, max unauthenticated time,
// max body size (a slowloris frame), max in-flight publishes (back-pressure: the socket is
// paused), max buffered outgoing bytes (a consumer that does not read is closed).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildBytesMessage, KiteQClient } from '../client';
import { CmdType } from '../protocol/commands';
import { encodePacket, HEADER_LEN } from '../protocol/packet-header';
import { encodeMessage } from '../protocol/messages/message';
import type { StoredMessage } from '../store/contract';
import { MemoryStore } from '../store/memory/memory-store';
import { captureLog } from './fixtures/fault/log-capture';
import { withBroker } from './support/with-broker';
import { countdown, eventually } from './support/events';
import { aHeader } from './support/messages';
import { RawClient } from './support/raw-client';

describe('hardening - connection limits', function () {
  this.timeout(20_000);
  const captured = captureLog();

  const env = withBroker({
    bindings: [],
    config: { maxConnections: 5, authTimeoutMs: 300, maxBodyBytes: 4096 },
    brokerOptions: { log: captured.log },
  });

  it('closes sockets past max connections at once, with a log line, and takes new ones when under it', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(env.address)));
    await Promise.all(held.map((c) => c.handshake('p-trade', 'k')));
    const extra = await RawClient.connect(env.address);
    await extra.closedWithin(1000);
    assert.equal(captured.find('max connections reached').length, 1);
    held[0].close();
    await eventually(() => env.broker.sessionCount === 4, 2000, 'one session gone');
    const again = await RawClient.connect(env.address);
    assert.equal((await again.handshake('p-trade', 'k')).status, true);
    for (const c of [...held, again]) c.close();
    await eventually(() => env.broker.sessionCount === 0, 2000, 'sessions closed');
  });

  it('closes a connection that sends no CONN_META within authTimeoutMs', async () => {
    const idle = await RawClient.connect(env.address);
    const started = Date.now();
    await idle.closedWithin(2500);
    assert.ok(Date.now() - started >= 250, 'not before the timeout');
    assert.ok(captured.find('closing connection').some((l) => /no CONN_META within 300 ms/.test(String(l.reason))));
  });

  it('closes a slowloris frame at its header when the declared body is over maxBodyBytes, without waiting for it', async () => {
    const raw = await RawClient.connect(env.address);
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    const header = encodePacket(9, CmdType.STRING_MESSAGE, Buffer.alloc(0));
    header.writeInt32BE(4097, HEADER_LEN - 4);
    raw.write(header);
    await raw.closedWithin(1000);
  });
});

/** A memory store whose saves wait for a gate: makes "publishes not yet acked" observable. */
class GatedStore extends MemoryStore {
  saves = 0;
  private gate: Promise<void>;
  private openGate!: () => void;

  constructor() {
    super({ maxMessages: 100_000 });
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  override async save(message: StoredMessage): Promise<void> {
    this.saves++;
    await this.gate;
    return super.save(message);
  }

  open(): void {
    this.openGate();
  }
}

describe('hardening - max in-flight publishes per connection', function () {
  this.timeout(20_000);
  const store = new GatedStore();

  const env = withBroker({ bindings: [], config: { maxInFlightPublishes: 10 }, brokerOptions: { store } });

  it('stops reading a producer at the limit (TCP back-pressure) and resumes once acks go out', async () => {
    const raw = await RawClient.connect(env.address);
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    const count = 2000;
    const acks = countdown(count, 15_000, 'store-acks');
    raw.socket.on('data', () => undefined);
    const body = Buffer.alloc(1024, 7);
    const packets = Array.from({ length: count }, (_, i) =>
      encodePacket(
        100 + i,
        CmdType.BYTES_MESSAGE,
        encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header: aHeader(), body }),
      ),
    );
    raw.write(Buffer.concat(packets));
    const collect = async () => {
      for (let i = 0; i < count; i++) {
        await raw.next((f) => f.cmdType === CmdType.MESSAGE_STORE_ACK, 15_000);
        acks.tick();
      }
    };
    void collect();
    // The broker read one or a few chunks, then paused: 2 MB of publishes wait in TCP buffers.
    await eventually(() => store.saves > 0, 2000, 'first saves');
    await new Promise((r) => setImmediate(r));
    const seenWhileGated = store.saves;
    assert.ok(
      seenWhileGated < 500,
      `only a few chunks read while nothing is acked (read ${seenWhileGated} of ${count})`,
    );
    assert.ok(raw.socket.writableLength > 0 || seenWhileGated < count, 'the rest is still on our side or in flight');
    store.open();
    await acks.done;
    assert.equal(store.saves, count);
    raw.close();
  });
});

describe('hardening - max buffered outgoing bytes per connection', function () {
  this.timeout(30_000);
  const captured = captureLog();

  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { maxBufferedBytes: 512 * 1024 },
    brokerOptions: { log: captured.log },
  });

  it('closes a consumer that stops reading and delivers everything to one that reads', async () => {
    const stalled = await RawClient.connect(env.address);
    assert.equal((await stalled.handshake('s-mc', 'k')).status, true);
    stalled.socket.pause(); // never reads again: the broker's writes pile up
    const received = new Set<string>();
    // 1 MiB bodies: the kernel's loopback buffers absorb several MB before the socket queues any.
    const count = 60;
    const all = countdown(count, 25_000, 'deliveries to the reading consumer');
    const reader = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => {
        if (!received.has(m.header.messageId)) all.tick();
        received.add(m.header.messageId);
        return true;
      },
    });
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
    });
    await Promise.all([reader.start(), producer.start()]);
    const body = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < count; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, count - i) }, () =>
          producer.send(buildBytesMessage({ topic: 'trade', messageType: 'pay-succ', body })),
        ),
      );
    }
    await all.done;
    // (the paused socket would not see its own 'close' until it read its backlog: ask the broker)
    await eventually(
      () => captured.find('closing connection').some((l) => /slow consumer/.test(String(l.reason))),
      10_000,
      'a "slow consumer" log line',
    );
    await eventually(() => env.broker.sessionCount === 2, 2000, 'the stalled session gone');
    stalled.close();
    await Promise.all([reader.close(), producer.close()]);
  });
});
