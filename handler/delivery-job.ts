// One delivery attempt of one message to its target groups (doc/architecture.md §5 deliver-prepare →
// deliver-result). Plain data plus counters: no closures per message on the hot path.
import type { Binding } from '../binding/binding';
import {
  encodeMessage,
  encodeMessageWithHeader,
  messageWithHeaderSize,
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
  /** size() of a body written in place; -1 until asked */
  private encodedSize = -1;
  /** bound persistent groups with no consumer online: not targeted, the message waits for them */
  waiting: readonly string[] = [];
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
    if (this.encodedSize < 0) {
      const { encodedHeader, body } = this.message;
      this.encodedSize =
        this.encoded === null && encodedHeader !== undefined
          ? messageWithHeaderSize(encodedHeader, body)
          : this.body().length;
    }
    return this.encodedSize;
  }

  /**
   * PacketBody: with the header encoded at publish (the common case) the body is encoded straight
   * into the consumer's outgoing buffer, once per group; otherwise the bytes encoded once are copied.
   */
  writeTo(buffer: Buffer, offset: number): void {
    const { encodedHeader, msgType, body } = this.message;
    if (this.encoded === null && encodedHeader !== undefined)
      writeMessageWithHeader(buffer, offset, this.size(), msgType, encodedHeader, body);
    else buffer.set(this.body(), offset);
  }

  /** The delivery packet body, encoded once and shared by every group (KiteMessage protobuf). */
  body(): Uint8Array {
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
  }

  /** Records one group's outcome; true when the attempt is complete. */
  settle(groupId: string, ok: boolean): boolean {
    if (ok) this.succeeded.push(groupId);
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
