// Packets encoded in place (protocol/frame-writer.ts begin/end): the store-ack and the delivery
// body the broker writes straight into a connection's outgoing buffer are byte for byte the packets
// the standalone encoders (checked against golden bytes in protocol-golden.spec.ts) produce.
import assert from 'node:assert/strict';
import { CmdType, encodeHeader, encodeMessage, encodePacket, encodeStoreAck } from '../protocol';
import { FrameWriter } from '../protocol/frame-writer';
import { encodeMessageWithHeader, messageWithHeaderSize, writeMessageWithHeader } from '../protocol/messages/message';
import { deliverAckSize, encodeDeliverAck, writeDeliverAck } from '../protocol/messages/deliver-ack';
import { AckSuffixes, writePositiveAck } from '../client/ack-suffixes';
import { storeAckSize, writeStoreAck } from '../protocol/messages/store-ack';
import { protocol } from './support/protobufjs-reference';
import { aHeader } from './support/messages';

/** A FrameWriter whose hand-overs are collected; flush() at the end of the test's tick. */
function collectingWriter(): { writer: FrameWriter; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const writer = new FrameWriter({ write: (data) => (chunks.push(Buffer.from(data)), true) });
  return { writer, bytes: () => (writer.flush(), Buffer.concat(chunks)) };
}

describe('protocol in place - packets encoded straight into the outgoing buffer', () => {
  it('writes a store-ack at an offset with the bytes of encodeStoreAck', () => {
    for (const feedback of ['', 'duplicate: already stored', 'Store Full: ünïcode reason']) {
      const ack = { messageId: aHeader().messageId, status: feedback === '', feedback };
      const size = storeAckSize(ack.messageId, ack.feedback);
      const buffer = Buffer.alloc(size + 7, 0xee);
      writeStoreAck(buffer, 5, size, ack.messageId, ack.status, ack.feedback);
      assert.deepEqual(buffer.subarray(5, 5 + size), Buffer.from(encodeStoreAck(ack)));
      assert.deepEqual(buffer.subarray(size + 5), Buffer.from([0xee, 0xee]), 'nothing written past the body');
    }
  });

  it('writes a delivery body at an offset with the bytes of encodeMessage, for bytes and string bodies', () => {
    const header = aHeader({ properties: [{ key: 'k', value: 'v' }] });
    const cases = [
      { cmdType: CmdType.BYTES_MESSAGE, body: Buffer.alloc(512, 9) },
      { cmdType: CmdType.STRING_MESSAGE, body: '{"order":42,"note":"é"}' },
    ] as const;
    for (const { cmdType, body } of cases) {
      const encodedHeader = encodeHeader(header);
      const size = messageWithHeaderSize(encodedHeader, body);
      const buffer = Buffer.alloc(size + 3);
      writeMessageWithHeader(buffer, 3, size, cmdType, encodedHeader, body);
      const expected = encodeMessage({ cmdType, header, body } as Parameters<typeof encodeMessage>[0]);
      assert.deepEqual(buffer.subarray(3), Buffer.from(expected));
      assert.deepEqual(Buffer.from(encodeMessageWithHeader(cmdType, encodedHeader, body)), Buffer.from(expected));
    }
  });

  it("writes a DeliverAck at an offset with the bytes of encodeDeliverAck (the client's ack, in place)", () => {
    const { messageId } = aHeader();
    for (const feedback of [undefined, '', 'listener threw: ünïcode', 'x'.repeat(200)]) {
      const ack = {
        messageId,
        topic: 'trade',
        messageType: 'pay-succ',
        groupId: 's-mc',
        status: feedback === '',
        feedback,
      };
      const size = deliverAckSize(ack);
      const buffer = Buffer.alloc(size + 6, 0xee);
      writeDeliverAck(buffer, 4, size, ack);
      assert.deepEqual(buffer.subarray(4, 4 + size), Buffer.from(protocol.DeliverAck.encode(ack).finish()));
      assert.deepEqual(buffer.subarray(size + 4), Buffer.from([0xee, 0xee]), 'nothing written past the body');
    }
  });

  it("frames the client's positive ack (its messageId, then the rest encoded once per topic and type) as encodeDeliverAck", () => {
    const suffixes = new AckSuffixes('s-mc');
    const { writer, bytes } = collectingWriter();
    const acks = [
      { messageId: aHeader().messageId, topic: 'trade', messageType: 'pay-succ' },
      { messageId: aHeader().messageId, topic: 'trade', messageType: 'pay-succ' },
      { messageId: 'ïd-ünïcode', topic: 'tradé', messageType: 'refund-ü' },
      { messageId: aHeader().messageId, topic: 'trade', messageType: 'refund-ü' },
    ];
    acks.forEach((a, i) => writePositiveAck(writer, i + 1, a.messageId, suffixes.of(a.topic, a.messageType)));
    const expected = acks.map((a, i) =>
      encodePacket(i + 1, CmdType.DELIVER_ACK, encodeDeliverAck({ ...a, groupId: 's-mc', status: true, feedback: '' })),
    );
    assert.deepEqual(bytes(), Buffer.concat(expected));
  });

  it('frames a packet begun and ended exactly as send() frames it, among other packets', () => {
    const ack = { messageId: aHeader().messageId, status: true, feedback: '' };
    const size = storeAckSize(ack.messageId, ack.feedback);
    const { writer, bytes } = collectingWriter();
    writer.send(1, CmdType.MESSAGE_STORE_ACK, encodeStoreAck(ack));
    const at = writer.begin(2, CmdType.MESSAGE_STORE_ACK, size);
    writeStoreAck(writer.target, at, size, ack.messageId, ack.status, ack.feedback);
    writer.end();
    writer.send(3, CmdType.MESSAGE_STORE_ACK, encodeStoreAck(ack));
    const expected = Buffer.concat(
      [1, 2, 3].map((opaque) => encodePacket(opaque, CmdType.MESSAGE_STORE_ACK, encodeStoreAck(ack))),
    );
    assert.deepEqual(bytes(), expected);
  });
});
