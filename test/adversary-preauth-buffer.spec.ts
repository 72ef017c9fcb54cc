// Attack: memory held by connections that never authenticate (a slowloris of large frames).
// Before CONN_META only a small frame is accepted, so unauthenticated connections buffer at most
// maxConnections × PRE_AUTH_MAX_BODY_BYTES broker-wide; after it the full maxBodyBytes applies
// (doc/security.md). A frame dripped in small pieces is decoded whole.
import assert from 'node:assert/strict';
import { CmdType } from '../protocol/commands';
import { encodePacket, HEADER_LEN } from '../protocol/packet-header';
import { encodeConnMeta } from '../protocol/messages/conn-meta';
import { encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck } from '../protocol/messages/store-ack';
import { PRE_AUTH_MAX_BODY_BYTES } from '../server/limits';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';

function headerDeclaring(cmdType: number, bodyLen: number): Buffer {
  const header = encodePacket(1, cmdType, Buffer.alloc(0));
  header.writeInt32BE(bodyLen, HEADER_LEN - 4);
  return header;
}

function publishPacket(opaque: number, bodyBytes: number): Buffer {
  const header = aHeader();
  return encodePacket(
    opaque,
    CmdType.BYTES_MESSAGE,
    encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: Buffer.alloc(bodyBytes, 7) }),
  );
}

describe('adversary - large frames before CONN_META', function () {
  this.timeout(20_000);
  // authTimeoutMs well past the closes asserted below: they must come from the header check.
  const env = withBroker({ bindings: [], config: { authTimeoutMs: 15_000 } });

  for (const [name, cmdType] of [
    ['CONN_META', CmdType.CONN_META],
    ['publish', CmdType.BYTES_MESSAGE],
  ] as const) {
    it(`closes a connection at the header of a ${name} larger than a CONN_META, before any body byte`, async () => {
      const raw = await env.raw();
      raw.write(headerDeclaring(cmdType, PRE_AUTH_MAX_BODY_BYTES + 1));
      await raw.closedWithin(2000);
    });
  }

  it('accepts a frame of the full maxBodyBytes once authenticated, even sent with the CONN_META in one write', async () => {
    const raw = await env.raw();
    const meta = encodePacket(
      1,
      CmdType.CONN_META,
      encodeConnMeta({ groupId: 'p-trade', secretKey: 'k', warmingupSec: 0 }),
    );
    raw.write(Buffer.concat([meta, publishPacket(2, 1024 * 1024)]));
    assert.equal(decodeStoreAck((await raw.next((f) => f.opaque === 2)).body).status, true);
    raw.close();
  });

  it('stores a publish that arrives in 1-byte pieces', async () => {
    const raw = await env.raw();
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    const packet = publishPacket(3, 20_000);
    for (let at = 0; at < packet.length; at++) {
      raw.write(packet.subarray(at, at + 1));
      if (at % 64 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the broker read small chunks
    }
    assert.equal(decodeStoreAck((await raw.next((f) => f.opaque === 3)).body).status, true);
    raw.close();
  });
});
