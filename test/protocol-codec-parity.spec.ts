// The hand-written codecs of every packet (protocol/messages/proto-writer.ts, proto-reader.ts)
// against protobufjs, the reference the golden fixtures were first checked with: the same bytes for
// every encoded value, and on mutated bytes the same decoded value or a ProtocolError where
// protobufjs fails. Seeded, so a failure names the case that broke.
import assert from 'node:assert/strict';
import { CmdType } from '../protocol/commands';
import { ProtocolError } from '../protocol/errors';
import { type DeliverAck, decodeDeliverAck, encodeDeliverAck } from '../protocol/messages/deliver-ack';
import { type ConnAuthAck, decodeConnAuthAck, encodeConnAuthAck } from '../protocol/messages/conn-auth-ack';
import { type ConnMeta, decodeConnMeta, encodeConnMeta } from '../protocol/messages/conn-meta';
import { encodeHeader, type MessageHeader } from '../protocol/messages/header';
import { type HeartBeat, decodeHeartBeat, encodeHeartBeat } from '../protocol/messages/heartbeat';
import {
  type KiteMessage,
  decodeMessage,
  encodeMessage,
  MessagePacket,
  encodeMessageWithHeader,
  messagePrefixSize,
  writeMessagePrefix,
} from '../protocol/messages/message';
import { type MessageStoreAck, decodeStoreAck, encodeStoreAck } from '../protocol/messages/store-ack';
import { type TxAck, decodeTxAck, encodeTxAck } from '../protocol/messages/tx-ack';
import { protocol, toMessageHeader } from './support/protobufjs-reference';
import { seededRandom as prng } from './fixtures/fault/harness';

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const TEXTS = [
  '',
  'trade',
  'pay-succ',
  'p-trade',
  '订单',
  'é',
  'x'.repeat(70),
  'ü'.repeat(80),
  '0123456789abcdef0123456789abcdef',
];
const NUMBERS = [0, 1, -1, 100, 127, 128, 16383, 16384, 1700003600, 2 ** 31 - 1, 2 ** 32 + 5, 2 ** 50 + 3, -1700000000];
const INT32 = [0, 1, -1, 100, 127, 128, 2 ** 31 - 1, -(2 ** 31)];

function aHeader(random: Random): MessageHeader {
  const header: MessageHeader = {
    messageId: pick(random, TEXTS),
    topic: pick(random, TEXTS),
    messageType: pick(random, TEXTS),
    expiredTime: pick(random, NUMBERS),
    deliverLimit: pick(random, INT32),
    groupId: pick(random, TEXTS),
    commit: random() < 0.5,
    fly: random() < 0.5,
    properties: Array.from({ length: Math.floor(random() * 3) }, () => ({
      key: pick(random, TEXTS),
      value: pick(random, TEXTS),
    })),
  };
  if (random() < 0.6) header.createTime = pick(random, NUMBERS);
  if (random() < 0.3) header.snappy = random() < 0.5;
  return header;
}

const aBody = (random: Random): Buffer =>
  Buffer.from(Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256)));

// protobufjs decoders shaped like ours (the ones the codebase used before proto-reader.ts)
const reference = {
  bytes: (b: Uint8Array): KiteMessage => {
    const m = protocol.BytesMessage.decode(b);
    return { cmdType: CmdType.BYTES_MESSAGE, header: toMessageHeader(m.header), body: Buffer.from(m.body) };
  },
  string: (b: Uint8Array): KiteMessage => {
    const m = protocol.StringMessage.decode(b);
    return { cmdType: CmdType.STRING_MESSAGE, header: toMessageHeader(m.header), body: m.body };
  },
  storeAck: (b: Uint8Array): MessageStoreAck => {
    const m = protocol.MessageStoreAck.decode(b);
    return { messageId: m.messageId, status: m.status, feedback: m.feedback };
  },
  deliverAck: (b: Uint8Array): DeliverAck => {
    const m = protocol.DeliverAck.decode(b);
    const ack: DeliverAck = {
      messageId: m.messageId,
      topic: m.topic,
      messageType: m.messageType,
      groupId: m.groupId,
      status: m.status,
    };
    if (m.feedback != null && m.feedback !== '') ack.feedback = m.feedback;
    return ack;
  },
  txAck: (b: Uint8Array): TxAck => {
    const m = protocol.TxACKPacket.decode(b);
    return { header: toMessageHeader(m.header), status: m.status, feedback: m.feedback };
  },
  heartBeat: (b: Uint8Array): HeartBeat => ({ version: Number(protocol.HeartBeat.decode(b).version) }),
  connMeta: (b: Uint8Array): ConnMeta => {
    const m = protocol.ConnMeta.decode(b);
    return { groupId: m.groupId, secretKey: m.secretKey, warmingupSec: m.warmingupSec ?? 0 };
  },
  connAuthAck: (b: Uint8Array): ConnAuthAck => {
    const m = protocol.ConnAuthAck.decode(b);
    return { status: m.status, feedback: m.feedback };
  },
};

interface Codec {
  name: string;
  make: (random: Random) => unknown;
  encode: (value: never) => Uint8Array;
  referenceEncode: (value: never) => Uint8Array;
  decode: (bytes: Buffer) => unknown;
  referenceDecode: (bytes: Uint8Array) => unknown;
}

const codecs: Codec[] = [
  {
    name: 'BytesMessage',
    make: (r) => ({ cmdType: CmdType.BYTES_MESSAGE, header: aHeader(r), body: aBody(r) }),
    encode: (m: KiteMessage) => encodeMessage(m),
    referenceEncode: (m: KiteMessage) =>
      protocol.BytesMessage.encode({ header: m.header, body: m.body as Uint8Array }).finish(),
    decode: (b) => decodeMessage(CmdType.BYTES_MESSAGE, b),
    referenceDecode: reference.bytes,
  },
  {
    name: 'StringMessage',
    make: (r) => ({ cmdType: CmdType.STRING_MESSAGE, header: aHeader(r), body: pick(r, TEXTS) }),
    encode: (m: KiteMessage) => encodeMessage(m),
    referenceEncode: (m: KiteMessage) =>
      protocol.StringMessage.encode({ header: m.header, body: m.body as string }).finish(),
    decode: (b) => decodeMessage(CmdType.STRING_MESSAGE, b),
    referenceDecode: reference.string,
  },
  {
    name: 'MessageStoreAck',
    make: (r) => ({ messageId: pick(r, TEXTS), status: r() < 0.5, feedback: pick(r, TEXTS) }),
    encode: (m: MessageStoreAck) => encodeStoreAck(m),
    referenceEncode: (m: MessageStoreAck) => protocol.MessageStoreAck.encode(m).finish(),
    decode: decodeStoreAck,
    referenceDecode: reference.storeAck,
  },
  {
    name: 'DeliverAck',
    make: (r) => {
      const ack: DeliverAck = {
        messageId: pick(r, TEXTS),
        topic: pick(r, TEXTS),
        messageType: pick(r, TEXTS),
        groupId: pick(r, TEXTS),
        status: r() < 0.5,
      };
      if (r() < 0.5)
        ack.feedback = pick(
          r,
          TEXTS.filter((t) => t !== ''),
        );
      return ack;
    },
    encode: (m: DeliverAck) => encodeDeliverAck(m),
    referenceEncode: (m: DeliverAck) => protocol.DeliverAck.encode(m).finish(),
    decode: decodeDeliverAck,
    referenceDecode: reference.deliverAck,
  },
  {
    name: 'TxACKPacket',
    make: (r) => ({ header: aHeader(r), status: pick(r, [0, 1, 2, -1, 300]), feedback: pick(r, TEXTS) }),
    encode: (m: TxAck) => encodeTxAck(m),
    referenceEncode: (m: TxAck) => protocol.TxACKPacket.encode(m).finish(),
    decode: decodeTxAck,
    referenceDecode: reference.txAck,
  },
  {
    name: 'HeartBeat',
    make: (r) => ({ version: pick(r, NUMBERS) }),
    encode: (m: HeartBeat) => encodeHeartBeat(m),
    referenceEncode: (m: HeartBeat) => protocol.HeartBeat.encode(m).finish(),
    decode: decodeHeartBeat,
    referenceDecode: reference.heartBeat,
  },
  {
    name: 'ConnMeta',
    make: (r) => ({ groupId: pick(r, TEXTS), secretKey: pick(r, TEXTS), warmingupSec: pick(r, INT32) }),
    encode: (m: ConnMeta) => encodeConnMeta(m),
    referenceEncode: (m: ConnMeta) => protocol.ConnMeta.encode(m).finish(),
    decode: decodeConnMeta,
    referenceDecode: reference.connMeta,
  },
  {
    name: 'ConnAuthAck',
    make: (r) => ({ status: r() < 0.5, feedback: pick(r, TEXTS) }),
    encode: (m: ConnAuthAck) => encodeConnAuthAck(m),
    referenceEncode: (m: ConnAuthAck) => protocol.ConnAuthAck.encode(m).finish(),
    decode: decodeConnAuthAck,
    referenceDecode: reference.connAuthAck,
  },
];

function mutate(bytes: Buffer, random: Random): Buffer {
  const out = Buffer.from(bytes);
  switch (Math.floor(random() * 4)) {
    case 0: // flip a bit
      if (out.length > 0) out[Math.floor(random() * out.length)] ^= 1 << Math.floor(random() * 8);
      return out;
    case 1: // cut short
      return out.subarray(0, Math.floor(random() * out.length));
    case 2: // a random byte anywhere
      if (out.length > 0) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return out;
    default: // an unknown field appended (number 20–29, every wire type)
      return Buffer.concat([
        out,
        Buffer.from([((20 + Math.floor(random() * 10)) << 3) | pick(random, [0, 1, 2, 5]), 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      ]);
  }
}

function outcome(decode: () => unknown): { value?: unknown; error?: Error } {
  try {
    return { value: decode() };
  } catch (error) {
    return { error: error as Error };
  }
}

describe('protocol codecs - hand-written encoders and decoders agree with protobufjs', function () {
  for (const codec of codecs) {
    it(`${codec.name}: 2,000 random values encode to protobufjs's bytes and decode back`, () => {
      const random = prng(0x5eed + codec.name.length);
      for (let i = 0; i < 2000; i++) {
        const value = codec.make(random);
        const ours = Buffer.from(codec.encode(value as never));
        assert.deepEqual(
          ours,
          Buffer.from(codec.referenceEncode(value as never)),
          `${codec.name} case ${i}: ${JSON.stringify(value)}`,
        );
        assert.deepEqual(codec.decode(ours), codec.referenceDecode(ours), `${codec.name} case ${i}`);
      }
    });

    it(`${codec.name}: 5,000 mutated bodies decode as protobufjs does, or fail with a ProtocolError`, () => {
      const random = prng(0xfade + codec.name.length);
      let rejectedOnlyByUs = 0;
      for (let i = 0; i < 5000; i++) {
        const bytes = mutate(Buffer.from(codec.referenceEncode(codec.make(random) as never)), random);
        const ours = outcome(() => codec.decode(bytes));
        const theirs = outcome(() => codec.referenceDecode(bytes));
        const where = `${codec.name} case ${i}: ${bytes.toString('hex')}`;
        if (ours.error) {
          assert.ok(ours.error instanceof ProtocolError, `${where}: ${ours.error.message}`);
          // stricter than protobufjs in one way only: a known field with the wrong wire type
          if (!theirs.error) {
            assert.match(ours.error.message, /has wire type/, where);
            rejectedOnlyByUs++;
          }
        } else {
          assert.equal(
            theirs.error,
            undefined,
            `${where}: protobufjs failed (${theirs.error?.message}) where we decoded`,
          );
          assert.deepEqual(ours.value, theirs.value, where);
        }
      }
      assert.ok(
        rejectedOnlyByUs < 5000 / 4,
        `${rejectedOnlyByUs} wire-type refusals: the mutations should mostly decode or fail on both sides`,
      );
    });
  }
});

describe('protocol codecs - a large body sent as it is after its encoded head', function () {
  // The client's publish and the broker's delivery put a large body on the wire as it is, after a
  // head encoded apart (frame-writer.ts tail): head + body must be protobufjs's bytes.
  const sizes = [0, 1, 127, 128, 16 * 1024, 70_000, 1024 * 1024];

  it("MessagePacket (a publish written in place, a large body after it) is protobufjs's message, for 500 random headers and bodies", () => {
    const random = prng(0x4ead);
    for (let i = 0; i < 500; i++) {
      const header = aHeader(random);
      const string = random() < 0.3;
      const body = string
        ? pick(random, TEXTS).repeat(pick(random, [1, 300, 3000]))
        : Buffer.alloc(pick(random, sizes), i & 0xff);
      const packet = new MessagePacket(string ? CmdType.STRING_MESSAGE : CmdType.BYTES_MESSAGE, header, body);
      const tail = packet.tail();
      const head = Buffer.alloc(packet.size() - (tail?.length ?? 0) + 3, 0xee);
      packet.writeTo(head, 2);
      assert.equal(head[head.length - 1], 0xee, `case ${i}: nothing past the head`);
      const ours = Buffer.concat([head.subarray(2, head.length - 1), tail ?? Buffer.alloc(0)]);
      const theirs = string
        ? protocol.StringMessage.encode({ header, body: body as string }).finish()
        : protocol.BytesMessage.encode({ header, body: body as Buffer }).finish();
      assert.ok(ours.equals(Buffer.from(theirs)), `case ${i}: ${JSON.stringify(header)}, body ${body.length}`);
      assert.equal(tail === null, string || body.length < 16 * 1024, `case ${i}: a large bytes body goes by reference`);
    }
  });

  it('writeMessagePrefix(encoded header) + body is encodeMessageWithHeader, for both message kinds', () => {
    const random = prng(0x9ef1);
    for (let i = 0; i < 200; i++) {
      const header = encodeHeader(aHeader(random));
      const body = Buffer.alloc(pick(random, sizes), 0x61);
      const cmdType = random() < 0.5 ? CmdType.BYTES_MESSAGE : CmdType.STRING_MESSAGE;
      const size = messagePrefixSize(header, body.length);
      const prefix = Buffer.alloc(size + 2, 0xee);
      writeMessagePrefix(prefix, 1, size, cmdType, header, body.length);
      assert.deepEqual(prefix.subarray(size + 1), Buffer.from([0xee]), `case ${i}: nothing past the prefix`);
      const ours = Buffer.concat([prefix.subarray(1, size + 1), body]);
      assert.ok(ours.equals(Buffer.from(encodeMessageWithHeader(cmdType, header, body))), `case ${i}`);
    }
  });
});
