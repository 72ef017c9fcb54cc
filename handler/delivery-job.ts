// One delivery attempt of one message to its target groups (doc/architecture.md §5 deliver-prepare →
// deliver-result). Plain data plus counters: no closures per message on the hot path.
import type { Binding } from '../binding/binding';
import { BY_REFERENCE_BYTES } from '../protocol/frame-writer';
import {
  encodeMessage,
  encodeMessageWithHeader,
  messageWithHeaderSize,
  writeMessagePrefix,
  writeMessageWithHeader,
} from '../protocol/messages/message';
import type { StoredMessage } from '../store/contract';
import type { Delivery } from './session-port';

export class DeliveryJob implements Delivery {
  /** groups still waiting for an ack in this attempt */
  outstanding: number;
  readonly succeeded: string[];
  readonly failed: string[] = [];
  private encoded: Uint8Array | null = null;
  /** size() of the body; -1 until plan() */
  private encodedSize = -1;
  /** see tail() */
  private tailBytes: Uint8Array | null = null;
  /** bound persistent groups with no consumer online (or handed back): not targeted, the message waits for them */
  waiting: readonly string[] = [];
  /** targets whose delivery never left the broker (PendingReply.handBack) */
  handedBack = 0;
  /** set on a first attempt straight from a publish: the publish→deliver latency is measured once */
  publishedAtMs: number | undefined = undefined;

  /** `succeededBefore`: the groups done before this attempt (default: the message's succGroups) */
  constructor(
    readonly message: StoredMessage,
    readonly attempt: number,
    readonly targets: readonly Binding[],
    readonly fly: boolean,
    succeededBefore: readonly string[] = message.succGroups,
  ) {
    this.outstanding = targets.length;
    this.succeeded = [...succeededBefore];
  }

  get messageId(): string {
    return this.message.header.messageId;
  }

  /** PacketBody: the delivery packet body's size (KiteMessage protobuf). */
  size(): number {
    if (this.encodedSize < 0) this.plan();
    return this.encodedSize;
  }

  /** PacketBody: the body's end the socket is given as it is (a large message body), or null. */
  tail(): Uint8Array | null {
    if (this.encodedSize < 0) this.plan();
    return this.tailBytes;
  }

  /**
   * How the body goes out, decided once for every group. With the header encoded at publish (the
   * common case) a small body for one group is encoded straight into the consumer's outgoing buffer,
   * and a large one is written as its prefix plus the message body by reference; otherwise the bytes
   * encoded once (or the producer's own) are copied when small (one copy per group in a fan-out)
   * and passed by reference when large.
   */
  private plan(): void {
    const { encodedHeader, body } = this.message;
    if (this.encoded === null && encodedHeader !== undefined) {
      const size = messageWithHeaderSize(encodedHeader, body);
      if (size < BY_REFERENCE_BYTES ? this.targets.length === 1 : typeof body !== 'string') {
        this.encodedSize = size;
        this.tailBytes = size < BY_REFERENCE_BYTES ? null : (body as Buffer);
        return;
      }
    }
    const bytes = this.body();
    this.encodedSize = bytes.length;
    this.tailBytes = bytes.length < BY_REFERENCE_BYTES ? null : bytes;
  }

  /** PacketBody: writes the body's first size() - tail().length bytes (all of them without a tail). */
  writeTo(buffer: Buffer, offset: number): void {
    if (this.encodedSize < 0) this.plan();
    const tail = this.tailBytes;
    const { encodedHeader, msgType, body } = this.message;
    if (this.encoded === null && encodedHeader !== undefined) {
      if (tail === null) writeMessageWithHeader(buffer, offset, this.encodedSize, msgType, encodedHeader, body);
      else writeMessagePrefix(buffer, offset, this.encodedSize - tail.length, msgType, encodedHeader, tail.length);
    } else if (tail === null) buffer.set(this.encoded!, offset);
  }

  /** The delivery packet body, encoded once and shared by every group (KiteMessage protobuf). */
  private body(): Uint8Array {
    if (this.encoded === null) {
      const { header, msgType, body, encodedHeader } = this.message;
      if (encodedHeader !== undefined) return (this.encoded = encodeMessageWithHeader(msgType, encodedHeader, body));
      this.encoded =
        msgType === 0x11
          ? encodeMessage({ cmdType: 0x11, header, body: typeof body === 'string' ? Buffer.from(body) : body })
          : encodeMessage({ cmdType: 0x12, header, body: typeof body === 'string' ? body : body.toString('utf8') });
    }
    return this.encoded;
  }

  /** The body is already encoded: the bytes the producer sent, when the broker changed no field. */
  useEncoded(body: Uint8Array): void {
    this.encoded = body;
    this.encodedSize = -1;
    this.tailBytes = null;
  }

  /** Records one group's outcome; true when the attempt is complete. handedBack: it waits, neither acked nor failed. */
  settle(groupId: string, ok: boolean, handedBack = false): boolean {
    if (handedBack) {
      this.waiting = [...this.waiting, groupId];
      this.handedBack += 1;
    } else if (ok) this.succeeded.push(groupId);
    else this.failed.push(groupId);
    this.outstanding -= 1;
    return this.outstanding === 0;
  }

  /** Approximate memory held, for the undelivered-bytes bound (doc/architecture.md §6 back-pressure). */
  get bytes(): number {
    const { body } = this.message;
    return 256 + (typeof body === 'string' ? body.length * 2 : body.length);
  }
}
