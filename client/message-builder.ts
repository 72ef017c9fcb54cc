// Message builders: a uuid messageId (32 hex, doc/architecture.md §2) and KiteQ's header defaults.
import type { MessageHeader } from '../protocol/messages/header';
import { newMessageId } from '../protocol/message-id';
import { asBuffer } from '../protocol/messages/proto-reader';

export { newMessageId };

export interface MessageOptions {
  topic: string;
  /** what the message is about; consumers filter on it (direct, regx and fanout bindings) */
  messageType: string;
  /**
   * The publishing group.
   * @default the sending client's groupId
   */
  groupId?: string;
  /**
   * false: a transactional (prepared) message; sendTx sets it.
   * @default true
   */
  commit?: boolean;
  /**
   * Unix seconds after which the message is no longer delivered; -1 = the broker's default (now + 7 days).
   * @default -1
   */
  expiredTime?: number;
  /**
   * Delivery attempts before the message is dead-lettered.
   * @default 100
   */
  deliverLimit?: number;
  /**
   * Deliver without storing (only with commit).
   * @default false
   */
  fly?: boolean;
  /**
   * Key/value properties carried in the header.
   * @default {}
   */
  properties?: Record<string, string>;
  /**
   * Compress the body with snappy (header.snappy); the receiving client uncompresses it.
   * @default false
   */
  snappy?: boolean;
  /**
   * 32 hex characters, unique per message; a retry of the same message keeps it.
   * @default newMessageId()
   */
  messageId?: string;
}

export interface StringMessage {
  kind: 'string';
  header: MessageHeader;
  body: string;
}

export interface BytesMessage {
  kind: 'bytes';
  header: MessageHeader;
  body: Buffer;
}

export type Message = StringMessage | BytesMessage;

function headerOf(o: MessageOptions): MessageHeader {
  const header: MessageHeader = {
    messageId: o.messageId ?? newMessageId(),
    topic: o.topic,
    messageType: o.messageType,
    expiredTime: o.expiredTime ?? -1,
    deliverLimit: o.deliverLimit ?? 100,
    groupId: o.groupId ?? '',
    commit: o.commit ?? true,
    fly: o.fly ?? false,
    // no properties (most messages): no entries array and closure per message
    properties: o.properties === undefined ? [] : Object.entries(o.properties).map(([key, value]) => ({ key, value })),
    createTime: Math.floor(Date.now() / 1000),
  };
  if (o.snappy) header.snappy = true;
  return header;
}

export function buildStringMessage(options: MessageOptions & { body: string }): StringMessage {
  return { kind: 'string', header: headerOf(options), body: options.body };
}

/**
 * The body is the caller's bytes, not a copy (a large one goes to the socket as it is): leave them
 * unchanged until send() settles.
 */
export function buildBytesMessage(options: MessageOptions & { body: Uint8Array }): BytesMessage {
  return { kind: 'bytes', header: headerOf(options), body: asBuffer(options.body) };
}

/** The message's properties as a plain object. */
export function messageProperties(message: { header: MessageHeader }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of message.header.properties) out[key] = value;
  return out;
}
