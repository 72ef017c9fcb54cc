// protobufjs as the reference the hand-written codecs (protocol/messages/) are checked against:
// the static classes generated from protocol/kiteq.proto by build.sh, with int64 as plain JS
// numbers (every KiteQ int64 is a time or a count) and the strict readers of
// protobufjs-strict-reader.ts. It configures this process's protobufjs, so only tests load it;
// the package itself never imports protobufjs.
import * as protobuf from 'protobufjs/minimal';
import type { MessageHeader } from '../../protocol/messages/header';
import { installStrictReaders } from './protobufjs-strict-reader';

(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();
installStrictReaders();

import pb = require('./generated/kiteq');
export import protocol = pb.protocol;

/** Plain object from a decoded protobufjs Header (defaults resolved through its prototype). */
export function toMessageHeader(h: protocol.IHeader): MessageHeader {
  const header: MessageHeader = {
    messageId: h.messageId,
    topic: h.topic,
    messageType: h.messageType,
    expiredTime: Number(h.expiredTime),
    deliverLimit: h.deliverLimit,
    groupId: h.groupId,
    commit: h.commit,
    fly: h.fly ?? false,
    properties: (h.properties ?? []).map((e) => ({ key: e.key, value: e.value })),
  };
  // Optional fields: a decoded protobufjs object reads absent ones as prototype defaults (0, false),
  // so ask whether they were on the wire.
  if (has(h, 'createTime') && h.createTime != null) header.createTime = Number(h.createTime);
  if (has(h, 'snappy') && h.snappy != null) header.snappy = h.snappy;
  return header;
}

function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
