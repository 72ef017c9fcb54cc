// Framing (doc/architecture.md §2): FrameDecoder turns TCP chunks into whole frames whatever the chunking, and
// rejects a bad header or an oversize body as a ProtocolError naming the rule; FrameWriter sends
// everything queued in one tick as one socket write.
import assert from 'node:assert/strict';
import {
  CmdType,
  DEFAULT_MAX_BODY_BYTES,
  FrameDecoder,
  FrameWriter,
  HEADER_LEN,
  ProtocolError,
  decodeConnAuthAck,
  decodeConnMeta,
  decodeDeliverAck,
  decodeHeartBeat,
  decodeMessage,
  decodeStoreAck,
  decodeTxAck,
  encodeMessage,
  encodePacket,
} from '../protocol';
import { aHeader } from './support/messages';
import type { Frame } from '../protocol';
import { BY_REFERENCE_BYTES } from '../protocol/frame-writer';
import { loadProtocolFixture, protocolFixturesDir } from './support/hex-fixture';
import { readdirSync } from 'node:fs';
import { decodeDeliverAckReply } from '../protocol/messages/deliver-ack';

const goldenFixtureNames = readdirSync(protocolFixturesDir())
  .filter((file) => file.endsWith('.hex'))
  .map((file) => file.slice(0, -'.hex'.length));
const fixtureNames = [
  'conn-meta-request',
  'heartbeat-request',
  'bytes-message',
  'string-message',
  'deliver-ack-request',
];

/** A 19-byte header by hand: opaque, cmdType, version 0, extension 0, bodyLen. */
function rawHeader(opaque: number, cmdType: number, bodyLen: number): Buffer {
  const header = Buffer.alloc(HEADER_LEN);
  header.writeUInt32BE(opaque, 0);
  header.writeUInt8(cmdType, 4);
  header.writeInt32BE(bodyLen, 15);
  return header;
}

function expectedFrame(packet: Buffer): Frame {
  return { opaque: packet.readUInt32BE(0), cmdType: packet.readUInt8(4), body: packet.subarray(HEADER_LEN) };
}

function collect(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push({ ...frame, body: Buffer.from(frame.body) }));
  return frames;
}

/** frames as the decoder gives them (views), not copies */
function collectViews(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push(frame));
  return frames;
}

function assertProtocolError(run: () => unknown, rule: string): void {
  assert.throws(run, (error: unknown) => error instanceof ProtocolError && error.rule === rule);
}

describe('protocol framing - FrameDecoder chunking', function () {
  const packets = fixtureNames.map(loadProtocolFixture);
  const stream = Buffer.concat(packets);
  const expected = packets.map(expectedFrame);

  it('decodes a frame split at every byte position', () => {
    for (const packet of packets) {
      for (let cut = 1; cut < packet.length; cut++) {
        const frames = collect(new FrameDecoder(), [packet.subarray(0, cut), packet.subarray(cut)]);
        assert.deepEqual(frames, [expectedFrame(packet)], `cut at ${cut}`);
      }
    }
  });

  it('decodes a stream of frames split at every byte position, in order', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new FrameDecoder();
      assert.deepEqual(collect(decoder, [stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    assert.deepEqual(collect(new FrameDecoder(), chunks), expected);
  });

  it('decodes many frames in one chunk, in order', () => {
    assert.deepEqual(collect(new FrameDecoder(), [stream]), expected);
  });

  it('keeps a partial frame buffered until the rest arrives', () => {
    const decoder = new FrameDecoder();
    const packet = packets[2];
    assert.deepEqual(collect(decoder, [packet.subarray(0, 30)]), []);
    assert.equal(decoder.bufferedBytes, 30);
    assert.deepEqual(collect(decoder, [packet.subarray(30)]), [expectedFrame(packet)]);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('decodes a zero-length body as an empty frame', () => {
    const empty = rawHeader(42, CmdType.HEARTBEAT, 0);
    const frames = collect(new FrameDecoder(), [Buffer.concat([empty, packets[1]])]);
    assert.deepEqual(frames, [
      { opaque: 42, cmdType: CmdType.HEARTBEAT, body: Buffer.alloc(0) },
      expectedFrame(packets[1]),
    ]);
  });

  it('accepts a body of exactly the maximum size', () => {
    const body = Buffer.alloc(64, 7);
    const frames = collect(new FrameDecoder(64), [Buffer.concat([rawHeader(1, CmdType.BYTES_MESSAGE, 64), body])]);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].body.length, 64);
  });

  it('decodes a 256 KiB frame fed one byte at a time in linear time (each byte copied once)', () => {
    // Copying everything buffered on each piece made this ~34 GB of copying (tens of seconds).
    const packet = encodePacket(5, CmdType.BYTES_MESSAGE, Buffer.alloc(256 * 1024, 5).fill(6, 1000, 2000));
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    const started = performance.now();
    for (let at = 0; at < packet.length; at++) {
      decoder.push(packet.subarray(at, at + 1), (frame) => frames.push(frame));
      if (at === 100_000) assert.equal(decoder.bufferedBytes, 100_001);
    }
    const elapsedMs = performance.now() - started;
    assert.deepEqual(frames, [expectedFrame(packet)]);
    assert.equal(decoder.bufferedBytes, 0);
    assert.ok(elapsedMs < 2000, `took ${elapsedMs.toFixed(0)} ms`);
  });

  it('joins a 1 MiB frame arriving in 64 KiB chunks into one buffer of its own; a message body decoded from it is not copied', () => {
    const header = { ...aHeader(), messageType: 'large' };
    const body = Buffer.alloc(1024 * 1024, 0x61).fill(0x62, 500_000, 600_000);
    const packet = encodePacket(
      3,
      CmdType.BYTES_MESSAGE,
      encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body }),
    );
    const small = encodePacket(4, CmdType.HEARTBEAT, Buffer.from([8, 1]));
    const stream = Buffer.concat([small, packet, small]);
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (let at = 0; at < stream.length; at += 64 * 1024) {
      // each chunk a buffer of its own, as a socket read gives
      decoder.push(Buffer.from(stream.subarray(at, at + 64 * 1024)), (frame) => frames.push(frame));
      if (at === 64 * 1024) assert.equal(decoder.bufferedBytes, 2 * 64 * 1024 - small.length);
    }
    assert.deepEqual(
      frames.map((f) => f.opaque),
      [4, 3, 4],
    );
    const large = frames[1];
    assert.ok(large.body.equals(packet.subarray(HEADER_LEN)));
    assert.equal(large.body.buffer.byteLength, large.body.length, "one buffer of the body's size");
    const decoded = decodeMessage(CmdType.BYTES_MESSAGE, large.body);
    assert.ok(Buffer.from(decoded.body).equals(body));
    assert.equal((decoded.body as Buffer).buffer, large.body.buffer, 'the body is a view of the frame');
    // a small body is copied out of the chunk it came in, so keeping it does not pin the chunk
    const inChunk = encodePacket(
      5,
      CmdType.BYTES_MESSAGE,
      encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: Buffer.alloc(600, 1) }),
    );
    const smallFrames = collectViews(new FrameDecoder(), [
      Buffer.concat([inChunk, Buffer.alloc(60_000)]).subarray(0, inChunk.length),
    ]);
    const smallBody = decodeMessage(CmdType.BYTES_MESSAGE, smallFrames[0].body).body as Buffer;
    assert.notEqual(smallBody.buffer, smallFrames[0].body.buffer);
  });

  it('decodes frames on both sides of a frame that arrived in pieces, in order', () => {
    const [a, b, c] = [packets[0], packets[2], packets[1]];
    const big = encodePacket(9, CmdType.BYTES_MESSAGE, Buffer.alloc(100_000, 3));
    const stream = Buffer.concat([a, big, b, c]);
    const cuts = [a.length + 10, a.length + 17, a.length + 40_000, a.length + big.length + 5];
    const chunks = [0, ...cuts].map((from, i) => stream.subarray(from, i < cuts.length ? cuts[i] : stream.length));
    assert.deepEqual(collect(new FrameDecoder(), chunks), [a, big, b, c].map(expectedFrame));
  });

  it('applies a raised body limit to the next header of the same chunk', () => {
    const decoder = new FrameDecoder(16);
    const small = rawHeader(1, CmdType.CONN_META, 0);
    const large = encodePacket(2, CmdType.BYTES_MESSAGE, Buffer.alloc(64));
    const frames: Frame[] = [];
    decoder.push(Buffer.concat([small, large]), (frame) => {
      frames.push(frame);
      decoder.maxBodyBytes = 1024;
    });
    assert.deepEqual(
      frames.map((f) => f.opaque),
      [1, 2],
    );
  });

  it('uses a 2 MiB default body limit', () => {
    assert.equal(DEFAULT_MAX_BODY_BYTES, 2 * 1024 * 1024);
    assertProtocolError(
      () => new FrameDecoder().push(rawHeader(1, CmdType.BYTES_MESSAGE, DEFAULT_MAX_BODY_BYTES + 1), () => undefined),
      'body-size',
    );
  });
});

describe('protocol framing - FrameDecoder rejects bad headers', function () {
  it('rejects a body over the maximum as soon as the header arrives (rule body-size)', () => {
    // Only the header is pushed: the decoder must not wait to buffer 65 bytes first.
    assertProtocolError(
      () => new FrameDecoder(64).push(rawHeader(1, CmdType.BYTES_MESSAGE, 65), () => undefined),
      'body-size',
    );
  });

  it('rejects a negative bodyLen (rule body-size)', () => {
    const header = rawHeader(1, CmdType.HEARTBEAT, 0);
    header.writeUInt32BE(0xffffffff, 15);
    assertProtocolError(() => new FrameDecoder().push(header, () => undefined), 'body-size');
  });

  it('rejects an unknown cmdType (rule header)', () => {
    for (const cmdType of [0x00, 0x07, 0x10, 0x13, 0xff]) {
      assertProtocolError(() => new FrameDecoder().push(rawHeader(1, cmdType, 0), () => undefined), 'header');
    }
  });

  it('delivers the good frames before a bad header in the same chunk', () => {
    const good = loadProtocolFixture('heartbeat-request');
    const frames: Frame[] = [];
    assertProtocolError(
      () => new FrameDecoder().push(Buffer.concat([good, rawHeader(2, 0x42, 0)]), (f) => frames.push(f)),
      'header',
    );
    assert.deepEqual(frames, [expectedFrame(good)]);
  });
});

describe('protocol framing - undecodable bodies', function () {
  const decoders: Record<string, (body: Buffer) => unknown> = {
    HeartBeat: decodeHeartBeat,
    ConnMeta: decodeConnMeta,
    ConnAuthAck: decodeConnAuthAck,
    MessageStoreAck: decodeStoreAck,
    DeliverAck: decodeDeliverAck,
    // the broker's decoder of a client's DeliverAck (handler/decode.ts): the same refusals
    DeliverAckReply: decodeDeliverAckReply,
    TxACKPacket: decodeTxAck,
    BytesMessage: (body) => decodeMessage(CmdType.BYTES_MESSAGE, body),
    StringMessage: (body) => decodeMessage(CmdType.STRING_MESSAGE, body),
  };

  for (const [name, decode] of Object.entries(decoders)) {
    it(`${name}: an empty body misses required fields (rule decode)`, () => {
      assertProtocolError(() => decode(Buffer.alloc(0)), 'decode');
    });
    it(`${name}: garbage bytes (rule decode)`, () => {
      // 0xff... : a varint that never ends; 0x0f: field 1 with wire type 7, which does not exist.
      assertProtocolError(() => decode(Buffer.from('ffffffffffffffffffffff', 'hex')), 'decode');
      assertProtocolError(() => decode(Buffer.from('0f0102', 'hex')), 'decode');
    });
  }

  it('a body cut short inside a string (rule decode), never a shorter string', () => {
    const body = loadProtocolFixture('store-ack-reply-false').subarray(HEADER_LEN);
    assertProtocolError(() => decodeStoreAck(body.subarray(0, body.length - 3)), 'decode');
    const message = loadProtocolFixture('string-message').subarray(HEADER_LEN);
    assertProtocolError(() => decodeMessage(CmdType.STRING_MESSAGE, message.subarray(0, message.length - 1)), 'decode');
  });

  it('every golden fixture without its last byte (rule decode)', () => {
    const byCmdType: Record<number, (body: Buffer) => unknown> = {
      [CmdType.HEARTBEAT]: decoders.HeartBeat,
      [CmdType.CONN_META]: decoders.ConnMeta,
      [CmdType.CONN_AUTH]: decoders.ConnAuthAck,
      [CmdType.MESSAGE_STORE_ACK]: decoders.MessageStoreAck,
      [CmdType.DELIVER_ACK]: decoders.DeliverAck,
      [CmdType.TX_ACK]: decoders.TxACKPacket,
      [CmdType.BYTES_MESSAGE]: decoders.BytesMessage,
      [CmdType.STRING_MESSAGE]: decoders.StringMessage,
    };
    for (const name of goldenFixtureNames) {
      const packet = loadProtocolFixture(name);
      const decode = byCmdType[packet.readUInt8(4)];
      assertProtocolError(() => decode(packet.subarray(HEADER_LEN, packet.length - 1)), 'decode');
    }
  });

  it('a message whose Header misses a required field (rule decode)', () => {
    // BytesMessage{header: Header{messageId: "x"}, body: ""}: topic and the rest are missing.
    const body = Buffer.from('0a030a0178' + '1200', 'hex');
    assertProtocolError(() => decodeMessage(CmdType.BYTES_MESSAGE, body), 'decode');
  });

  it('a ConnMeta without its secretKey (rule decode)', () => {
    const body = Buffer.from('0a0473' + '2d6d63', 'hex'); // groupId "s-mc" only
    assertProtocolError(() => decodeConnMeta(body), 'decode');
  });
});

describe('protocol framing - FrameWriter', function () {
  /** A sink that records writes and resolves when the first one arrives. */
  function recordingSink() {
    const writes: Buffer[] = [];
    let resolveFirst: () => void = () => undefined;
    const firstWrite = new Promise<void>((resolve) => (resolveFirst = resolve));
    return {
      writes,
      firstWrite,
      write(data: Buffer): boolean {
        writes.push(Buffer.from(data));
        resolveFirst();
        return true;
      },
    };
  }
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('sends everything queued in one tick as one write, frames in order', async () => {
    const sink = recordingSink();
    const writer = new FrameWriter(sink);
    const packets = [];
    for (let opaque = 1; opaque <= 100; opaque++) {
      const body = Buffer.from(`body-${opaque}`);
      writer.send(opaque, CmdType.STRING_MESSAGE, body);
      packets.push(encodePacket(opaque, CmdType.STRING_MESSAGE, body));
    }
    assert.equal(sink.writes.length, 0, 'nothing is written synchronously');
    assert.equal(writer.pendingBytes, Buffer.concat(packets).length);
    await sink.firstWrite;
    await nextTurn();
    assert.equal(sink.writes.length, 1);
    assert.equal(sink.writes[0].toString('hex'), Buffer.concat(packets).toString('hex'));
    assert.equal(writer.pendingBytes, 0);
  });

  it('hands a busy tick over in 16 KiB writes without waiting for its end, frames in order', async () => {
    const sink = recordingSink();
    const writer = new FrameWriter(sink);
    const packets = [];
    // 100 deliveries of 512 B: ~52 KiB queued in one tick
    for (let opaque = 1; opaque <= 100; opaque++) {
      const body = Buffer.alloc(512, opaque);
      writer.send(opaque, CmdType.BYTES_MESSAGE, body);
      packets.push(encodePacket(opaque, CmdType.BYTES_MESSAGE, body));
    }
    const synchronous = sink.writes.length;
    assert.equal(synchronous, 3, 'three full 16 KiB writes while the tick still runs');
    for (const write of sink.writes)
      assert.ok(write.length >= 16 * 1024 && write.length < 16 * 1024 + 529, `write of ${write.length} bytes`);
    await nextTurn();
    assert.equal(sink.writes.length, 4, 'the remainder at the tick end');
    assert.equal(Buffer.concat(sink.writes).toString('hex'), Buffer.concat(packets).toString('hex'));
    assert.equal(writer.pendingBytes, 0);
  });

  it('writes what FrameDecoder reads back, including an empty body', async () => {
    const sink = recordingSink();
    const writer = new FrameWriter(sink);
    writer.send(1, CmdType.HEARTBEAT, Buffer.alloc(0));
    writer.send(2, CmdType.BYTES_MESSAGE, Buffer.from([1, 2, 3]));
    await sink.firstWrite;
    assert.deepEqual(collect(new FrameDecoder(), sink.writes), [
      { opaque: 1, cmdType: CmdType.HEARTBEAT, body: Buffer.alloc(0) },
      { opaque: 2, cmdType: CmdType.BYTES_MESSAGE, body: Buffer.from([1, 2, 3]) },
    ]);
  });

  it('hands a large body to the socket as it is, right after what was queued before it', async () => {
    const writes: Uint8Array[] = [];
    const writer = new FrameWriter({ write: (data) => (writes.push(data), true) });
    const large = Buffer.alloc(BY_REFERENCE_BYTES, 7);
    const head = Buffer.from([1, 2, 3]);
    writer.send(1, CmdType.HEARTBEAT, Buffer.from([8, 1]));
    writer.send(2, CmdType.BYTES_MESSAGE, large);
    writer.send(3, CmdType.BYTES_MESSAGE, head, large);
    writer.send(4, CmdType.HEARTBEAT, Buffer.from([8, 4]));
    await nextTurn();
    assert.equal(writes[1], large, 'the body itself, not a copy');
    assert.equal(writes[3], large);
    assert.equal(writes.length, 5);
    const expected = Buffer.concat([
      encodePacket(1, CmdType.HEARTBEAT, Buffer.from([8, 1])),
      encodePacket(2, CmdType.BYTES_MESSAGE, large),
      encodePacket(3, CmdType.BYTES_MESSAGE, Buffer.concat([head, large])),
      encodePacket(4, CmdType.HEARTBEAT, Buffer.from([8, 4])),
    ]);
    assert.ok(Buffer.concat(writes).equals(expected));
    assert.equal(writer.pendingBytes, 0);
  });

  it('starts a new write for sends after a flush, and writes nothing after close', async () => {
    const sink = recordingSink();
    const writer = new FrameWriter(sink);
    writer.send(1, CmdType.HEARTBEAT, Buffer.from([8, 1]));
    await sink.firstWrite;
    writer.send(2, CmdType.HEARTBEAT, Buffer.from([8, 2]));
    await nextTurn();
    assert.equal(sink.writes.length, 2);
    writer.send(3, CmdType.HEARTBEAT, Buffer.from([8, 3]));
    writer.close();
    writer.send(4, CmdType.HEARTBEAT, Buffer.from([8, 4]));
    await nextTurn();
    assert.equal(sink.writes.length, 2);
    assert.equal(writer.pendingBytes, 0);
  });
});
