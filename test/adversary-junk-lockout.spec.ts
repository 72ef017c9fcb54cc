// Attack: junk and wrong keys from one address (a broken client on a shared host, a NAT, a node's
// SNAT) locking out the well-behaved clients behind it. Only refused keys count, per (address,
// group); a protocol violation closes that connection and nothing more (doc/security.md).
import assert from 'node:assert/strict';
import { CmdType } from '../protocol/commands';
import { encodePacket } from '../protocol/packet-header';
import { encodeMessage } from '../protocol/messages/message';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';

const groups = [
  { groupId: 'p-trade', secretKey: 'p-key' },
  { groupId: 'p-pay', secretKey: 'pay-key' },
  { groupId: 's-mc', secretKey: 'mc-key' },
];

describe('adversary - junk and wrong keys from a shared address', function () {
  this.timeout(20_000);
  const env = withBroker({
    bindings: [],
    config: { groups, authFailLimit: 3, authFailWindowMs: 10_000, authBlockMs: 30_000 },
  });

  async function handshake(groupId: string, key: string, from?: string) {
    const raw = await env.raw(from);
    const auth = await raw.handshake(groupId, key);
    raw.close();
    return auth;
  }

  /** Each is a protocol violation before CONN_META; the broker closes the connection. */
  const junk: Record<string, () => Buffer> = {
    'random bytes': () => Buffer.from('GET / HTTP/1.1\r\nHost: kiteq\r\n\r\n'),
    'a CONN_META whose body is not protobuf': () =>
      encodePacket(1, CmdType.CONN_META, Buffer.from('ffffffffffffffffffff', 'hex')),
    'a CONN_META without a secretKey': () =>
      encodePacket(1, CmdType.CONN_META, Buffer.from('0a07702d7472616465', 'hex')),
    'a publish before CONN_META': () =>
      encodePacket(
        1,
        CmdType.STRING_MESSAGE,
        encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header: aHeader({ groupId: 'p-trade' }), body: 'x' }),
      ),
    'a heartbeat before CONN_META': () => encodePacket(1, CmdType.HEARTBEAT, Buffer.from('0801', 'hex')),
    'an unknown command': () => {
      const header = encodePacket(1, CmdType.HEARTBEAT, Buffer.alloc(0));
      header.writeUInt8(0x42, 4);
      return header;
    },
  };

  it('closes each junk connection and still lets every group in from that address', async () => {
    for (let round = 0; round < 3; round++) {
      for (const [what, bytes] of Object.entries(junk)) {
        const raw = await env.raw();
        raw.write(bytes());
        await raw.closedWithin(3000).catch(() => assert.fail(`${what}: connection not closed`));
      }
    }
    assert.equal(
      (await handshake('p-trade', 'p-key')).status,
      true,
      'a client with the right key, after junk from its address',
    );
    await env.startClient({ groupId: 'p-trade', secretKey: 'p-key', publishTopics: ['trade'] });
  });

  it('blocks, after wrong keys, only that group from that address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await handshake('p-pay', `guess-${i}`)).status, false);
    const blocked = await handshake('p-pay', 'pay-key');
    assert.equal(blocked.status, false, 'brute-force protection: the right key is refused unchecked while blocked');
    assert.match(blocked.feedback, /too many failed handshakes/);
    assert.equal((await handshake('s-mc', 'mc-key')).status, true, 'another group from the same address');
    assert.equal((await handshake('p-trade', 'p-key')).status, true, 'another group from the same address');
    assert.equal(
      (await handshake('p-pay', 'pay-key', '127.0.0.2')).status,
      true,
      'the same group from another address',
    );
  });
});
