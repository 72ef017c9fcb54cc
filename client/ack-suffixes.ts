// A positive DeliverAck of our group (status true, no feedback) differs from another of the same
// topic and message type only in its messageId, field 1, written first (doc/protocol.md): the
// bytes after it are encoded once per topic and type, and each ack is the id plus a copy of them.
import { CmdType } from '../protocol/commands';
import type { FrameWriter } from '../protocol/frame-writer';
import { encodeDeliverAck } from '../protocol/messages/deliver-ack';
import { ProtoWriter, stringFieldSize } from '../protocol/messages/proto-writer';

/** topic × type pairs kept before the table starts over (a consumer binds a few) */
const MAX_PAIRS = 1024;

export class AckSuffixes {
  private readonly byTopic = new Map<string, Map<string, Uint8Array>>();
  private pairs = 0;

  constructor(private readonly groupId: string) {}

  /** Fields 2–6 of the positive ack of a delivery of `topic` and `messageType`. */
  of(topic: string, messageType: string): Uint8Array {
    const suffix = this.byTopic.get(topic)?.get(messageType);
    return suffix ?? this.encode(topic, messageType);
  }

  private encode(topic: string, messageType: string): Uint8Array {
    if (this.pairs >= MAX_PAIRS) {
      this.byTopic.clear();
      this.pairs = 0;
    }
    const { groupId } = this;
    // an empty messageId is encoded as its tag and a zero length: the suffix is what follows
    const whole = encodeDeliverAck({ messageId: '', topic, messageType, groupId, status: true, feedback: '' });
    const suffix = Uint8Array.prototype.slice.call(whole, 2);
    let byType = this.byTopic.get(topic);
    if (byType === undefined) this.byTopic.set(topic, (byType = new Map()));
    byType.set(messageType, suffix);
    this.pairs++;
    return suffix;
  }
}

/** The DeliverAck packet of `messageId` with `suffix` (AckSuffixes.of), straight into the outgoing buffer. */
export function writePositiveAck(writer: FrameWriter, opaque: number, messageId: string, suffix: Uint8Array): void {
  const at = writer.begin(opaque, CmdType.DELIVER_ACK, stringFieldSize(1, messageId) + suffix.length);
  if (at < 0) return;
  const target = writer.target;
  target.set(suffix, new ProtoWriter(target, at).stringField(1, messageId).pos);
  writer.end();
}
