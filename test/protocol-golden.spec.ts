// Golden bytes (doc/architecture.md §2): every hand-built fixture in test/fixtures/protocol/ is decoded to the
// expected object and the expected object is encoded back to the very same bytes.
import assert from 'node:assert/strict';
import {
  CmdType,
  HEADER_LEN,
  TxStatus,
  decodeConnAuthAck,
  decodeConnMeta,
  decodeDeliverAck,
  decodeHeartBeat,
  decodeMessage,
  decodeStoreAck,
  decodeTxAck,
  encodeConnAuthAck,
  encodeConnMeta,
  encodeDeliverAck,
  encodeHeartBeat,
  encodeMessage,
  encodePacket,
  encodeStoreAck,
  encodeTxAck,
  readHeader,
} from '../protocol';
import type { KiteMessage, MessageHeader } from '../protocol';
import { loadProtocolFixture } from './support/hex-fixture';

interface GoldenCase<T> {
  fixture: string;
  opaque: number;
  cmdType: number;
  expected: T;
  decode: (body: Buffer) => T;
  /** absent: decode-only, and `decodeOnly` says why */
  encode?: (value: T) => Uint8Array;
  decodeOnly?: string;
}

// Erases T so one table can hold every body type; each entry is still checked against its own T.
function golden<T>(c: GoldenCase<T>): GoldenCase<unknown> {
  return c as GoldenCase<unknown>;
}

const messageId = '0123456789abcdef0123456789abcdef';

function header(overrides: Partial<MessageHeader>): MessageHeader {
  return {
    messageId,
    topic: 'trade',
    messageType: 'pay-succ',
    expiredTime: 1700003600,
    deliverLimit: 100,
    groupId: 'p-trade',
    commit: false,
    fly: false,
    properties: [],
    ...overrides,
  };
}

const decodeBytesMessage = (body: Buffer): KiteMessage => decodeMessage(CmdType.BYTES_MESSAGE, body);
const decodeStringMessage = (body: Buffer): KiteMessage => decodeMessage(CmdType.STRING_MESSAGE, body);

const cases: GoldenCase<unknown>[] = [
  golden({
    fixture: 'heartbeat-request',
    opaque: 1,
    cmdType: CmdType.HEARTBEAT,
    expected: { version: 1700000000 },
    decode: decodeHeartBeat,
    encode: encodeHeartBeat,
  }),
  golden({
    fixture: 'conn-meta-request',
    opaque: 1,
    cmdType: CmdType.CONN_META,
    expected: { groupId: 's-mc-group', secretKey: '123456', warmingupSec: 10 },
    decode: decodeConnMeta,
    encode: encodeConnMeta,
  }),
  golden({
    fixture: 'conn-meta-request-no-warmup',
    opaque: 1,
    cmdType: CmdType.CONN_META,
    expected: { groupId: 's-mc-group', secretKey: '123456', warmingupSec: 0 },
    decode: decodeConnMeta,
    decodeOnly: 'older KiteQ clients omit warmingupSec; we always write it',
  }),
  golden({
    fixture: 'conn-auth-reply',
    opaque: 1,
    cmdType: CmdType.CONN_AUTH,
    expected: { status: true, feedback: '授权成功' },
    decode: decodeConnAuthAck,
    encode: encodeConnAuthAck,
  }),
  golden({
    fixture: 'conn-auth-reply-rejected',
    opaque: 1,
    cmdType: CmdType.CONN_AUTH,
    expected: { status: false, feedback: '未授权的访问,连接关闭!' },
    decode: decodeConnAuthAck,
    encode: encodeConnAuthAck,
  }),
  golden({
    fixture: 'store-ack-reply',
    opaque: 7,
    cmdType: CmdType.MESSAGE_STORE_ACK,
    expected: { messageId, status: true, feedback: '' },
    decode: decodeStoreAck,
    encode: encodeStoreAck,
  }),
  golden({
    fixture: 'store-ack-reply-false',
    opaque: 7,
    cmdType: CmdType.MESSAGE_STORE_ACK,
    expected: { messageId, status: false, feedback: 'Expired Message!' },
    decode: decodeStoreAck,
    encode: encodeStoreAck,
  }),
  golden({
    fixture: 'deliver-ack-request',
    opaque: 9,
    cmdType: CmdType.DELIVER_ACK,
    expected: { messageId, topic: 'trade', messageType: 'pay-succ', groupId: 's-mc', status: true },
    decode: decodeDeliverAck,
    encode: encodeDeliverAck,
  }),
  golden({
    fixture: 'deliver-ack-request-failed',
    opaque: 9,
    cmdType: CmdType.DELIVER_ACK,
    expected: {
      messageId,
      topic: 'trade',
      messageType: 'pay-succ',
      groupId: 's-mc',
      status: false,
      feedback: 'consumer failed',
    },
    decode: decodeDeliverAck,
    encode: encodeDeliverAck,
  }),
  golden({
    fixture: 'tx-ack-commit',
    opaque: 5,
    cmdType: CmdType.TX_ACK,
    expected: { header: header({}), status: TxStatus.COMMIT, feedback: '' },
    decode: decodeTxAck,
    encode: encodeTxAck,
  }),
  golden({
    fixture: 'tx-ack-check-back',
    opaque: 12,
    cmdType: CmdType.TX_ACK,
    expected: { header: header({}), status: TxStatus.UNKNOWN, feedback: 'Server Check' },
    decode: decodeTxAck,
    encode: encodeTxAck,
  }),
  golden({
    fixture: 'tx-ack-check-back-reply',
    opaque: 12,
    cmdType: CmdType.TX_ACK,
    expected: { header: header({}), status: TxStatus.ROLLBACK, feedback: '' },
    decode: decodeTxAck,
    encode: encodeTxAck,
  }),
  golden<KiteMessage>({
    fixture: 'bytes-message',
    opaque: 3,
    cmdType: CmdType.BYTES_MESSAGE,
    expected: {
      cmdType: CmdType.BYTES_MESSAGE,
      header: header({ expiredTime: -1, commit: true }),
      body: Buffer.from([0x00, 0x01, 0x02, 0xff]),
    },
    decode: decodeBytesMessage,
    encode: encodeMessage,
  }),
  golden<KiteMessage>({
    fixture: 'string-message',
    opaque: 4,
    cmdType: CmdType.STRING_MESSAGE,
    expected: {
      cmdType: CmdType.STRING_MESSAGE,
      header: header({
        commit: true,
        properties: [
          { key: 'order', value: 'o-10086' },
          { key: 'region', value: 'cn-north' },
        ],
        createTime: 1700000000,
        snappy: true,
      }),
      body: 'BRBoZWxsbw==',
    },
    decode: decodeStringMessage,
    encode: encodeMessage,
  }),
];

describe('protocol golden bytes - hand-built fixtures', function () {
  for (const c of cases) {
    describe(c.fixture, function () {
      const packet = loadProtocolFixture(c.fixture);

      it('has a 19-byte header with the opaque, cmdType, zero version/extension and the body length', () => {
        assert.deepEqual(readHeader(packet, 0), {
          opaque: c.opaque,
          cmdType: c.cmdType,
          version: 0,
          extension: 0n,
          bodyLen: packet.length - HEADER_LEN,
        });
      });

      it('decodes to the expected object', () => {
        assert.deepStrictEqual(c.decode(packet.subarray(HEADER_LEN)), c.expected);
      });

      const encode = c.encode;
      if (encode === undefined) {
        it(`is decode-only: ${c.decodeOnly}`, () => assert.ok(c.decodeOnly));
      } else {
        it('encodes the expected object to the same bytes', () => {
          const encoded = encodePacket(c.opaque, c.cmdType, encode(c.expected));
          assert.equal(encoded.toString('hex'), packet.toString('hex'));
        });
      }
    });
  }

  it('covers every command code at least once', () => {
    const covered = new Set(cases.map((c) => c.cmdType));
    assert.deepEqual([...covered].sort(), Object.values(CmdType).sort());
  });
});
