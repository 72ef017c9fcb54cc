// Builders for test messages.
import { randomUUID } from 'node:crypto';
import { CmdType } from '../../protocol/commands';
import type { MessageHeader } from '../../protocol/messages/header';
import type { StoredMessage } from '../../store/contract';

export function newMessageId(): string {
  return randomUUID().replace(/-/g, '');
}

export function aHeader(overrides: Partial<MessageHeader> = {}): MessageHeader {
  const now = Math.floor(Date.now() / 1000);
  return {
    messageId: newMessageId(),
    topic: 'trade',
    messageType: 'pay-succ',
    expiredTime: now + 3600,
    deliverLimit: 100,
    groupId: 'p-trade',
    commit: true,
    fly: false,
    properties: [],
    createTime: now,
    ...overrides,
  };
}

/** A stored message as the persist stage would hand it to a store. */
export function aMessage(overrides: Partial<MessageHeader> = {}, body: string | Buffer = 'hello'): StoredMessage {
  const header = aHeader(overrides);
  return {
    header,
    msgType: typeof body === 'string' ? CmdType.STRING_MESSAGE : CmdType.BYTES_MESSAGE,
    body,
    publishTime: header.createTime ?? Math.floor(Date.now() / 1000),
    deliverCount: 0,
    succGroups: [],
    failGroups: [],
    nextDeliverTime: header.createTime ?? Math.floor(Date.now() / 1000),
    checkCount: 0,
    kiteServer: '127.0.0.1:13800',
  };
}
