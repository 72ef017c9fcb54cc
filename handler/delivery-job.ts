// One delivery attempt of one message to its target groups (design §5 deliver-prepare →
// deliver-result). Plain data plus counters: no closures per message on the hot path.
import type { Binding } from '../binding/binding';
import { encodeMessage, encodeMessageWithHeader } from '../protocol/messages/message';
import type { StoredMessage } from '../store/contract';

export class DeliveryJob {
  /** groups still waiting for an ack in this attempt */
  outstanding: number;
  readonly succeeded: string[];
  readonly failed: string[] = [];
  private encoded: Uint8Array | null = null;
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
  }

  /** Records one group's outcome; true when the attempt is complete. */
  settle(groupId: string, ok: boolean): boolean {
    if (ok) this.succeeded.push(groupId);
    else this.failed.push(groupId);
    this.outstanding -= 1;
    return this.outstanding === 0;
  }

  /** Approximate memory held, for the undelivered-bytes bound (design §6 back-pressure). */
  get bytes(): number {
    const { body } = this.message;
    return 256 + (typeof body === 'string' ? body.length * 2 : body.length);
  }
}
