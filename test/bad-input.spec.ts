// doc/architecture.md §2: bad input closes that connection only, never the broker; a well-behaved client on
// the same broker keeps sending and receiving throughout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient } from '../client';
import { CmdType } from '../protocol/commands';
import { encodePacket, HEADER_LEN } from '../protocol/packet-header';
import { encodeMessage } from '../protocol/messages/message';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { withBroker } from './support/with-broker';

describe('bad input - each malformed connection is closed, the broker keeps serving', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { maxBodyBytes: 64 * 1024 },
  });
  let producer: KiteQClient;
  let consumer: KiteQClient;
  const received = new Set<string>();

  before(async () => {
    consumer = env.client({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => (received.add(m.header.messageId), true),
    });
    producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await Promise.all([consumer.start(), producer.start()]);
  });

  /** The well-behaved pair still works: publish one and see it delivered. */
  async function roundtrip(): Promise<void> {
    const ack = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'still here' }),
    );
    const deadline = Date.now() + 5000;
    while (!received.has(ack.messageId)) {
      if (Date.now() > deadline) throw new Error('well-behaved message not delivered');
      await new Promise((r) => setImmediate(r));
    }
  }

  async function expectClosed(send: (raw: RawClient) => void, authenticate = true): Promise<void> {
    const raw = await env.raw();
    if (authenticate) assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    send(raw);
    await raw.closedWithin(3000);
    await roundtrip();
  }

  it('closes a connection that sends random bytes', async () => {
    await expectClosed((raw) => raw.write(Buffer.concat([Buffer.from([0, 0, 0, 9, 0x7f]), randomBytes(4096)])), false);
  });

  it('closes a connection that sends half a header and hangs up', async () => {
    const raw = await env.raw();
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    raw.write(encodePacket(7, CmdType.HEARTBEAT, Buffer.alloc(0)).subarray(0, HEADER_LEN - 5));
    raw.socket.end(); // half-close mid-header: the broker drops the partial frame with the connection
    await raw.closedWithin(3000);
    await roundtrip();
  });

  it('closes a connection that announces a body over the limit', async () => {
    await expectClosed((raw) => {
      const header = Buffer.alloc(HEADER_LEN);
      header.writeUInt32BE(3, 0);
      header.writeUInt8(CmdType.STRING_MESSAGE, 4);
      header.writeInt32BE(64 * 1024 + 1, 15);
      raw.write(header);
    });
  });

  it('closes a connection that sends a valid header with an undecodable body', async () => {
    await expectClosed((raw) =>
      raw.sendPacket(4, CmdType.STRING_MESSAGE, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])),
    );
  });

  it('closes a connection that publishes before CONN_META', async () => {
    const body = encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header: aHeader(), body: 'sneaky' });
    await expectClosed((raw) => raw.sendPacket(5, CmdType.STRING_MESSAGE, body), false);
  });

  it('closes a connection that sends an unknown command code', async () => {
    await expectClosed((raw) => raw.sendPacket(6, 0x42, Buffer.from('hi')));
  });

  it('has refused nothing the well-behaved producer sent', async () => {
    await roundtrip();
    assert.ok(env.broker.sessionCount >= 2, 'the good clients are still connected');
  });
});
