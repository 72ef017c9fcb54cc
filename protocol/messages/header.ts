// message Header { required string messageId = 1; required string topic = 2; required string messageType = 3;
//   required int64 expiredTime = 4 [default = -1]; required int32 deliverLimit = 5 [default = 100];
//   required string groupId = 6; required bool commit = 7; required bool fly = 8 [default = false];
//   repeated Entry properties = 9; optional int64 createTime = 10; optional bool snappy = 11; }
import { protocol } from '../pb';

export interface Entry {
  key: string;
  value: string;
}

/** The message header as the broker and client use it: proto2 defaults applied, int64 as numbers (seconds). */
export interface MessageHeader {
  messageId: string;
  topic: string;
  messageType: string;
  /** unix seconds; -1 = unset */
  expiredTime: number;
  deliverLimit: number;
  /** the publishing group */
  groupId: string;
  commit: boolean;
  fly: boolean;
  properties: Entry[];
  /** unix seconds */
  createTime?: number;
  snappy?: boolean;
}

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
  // so ask whether they were on the wire; re-encoding a header must not add fields it never had.
  if (has(h, 'createTime') && h.createTime != null) header.createTime = Number(h.createTime);
  if (has(h, 'snappy') && h.snappy != null) header.snappy = h.snappy;
  return header;
}

function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

export function encodeHeader(header: MessageHeader): Uint8Array {
  return protocol.Header.encode(header).finish();
}

export function decodeHeader(bytes: Uint8Array): MessageHeader {
  return toMessageHeader(protocol.Header.decode(bytes));
}

export function propertiesOf(header: MessageHeader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of header.properties) out[key] = value;
  return out;
}
