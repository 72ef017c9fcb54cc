// A committed bytes message as a store holds it, for the store-level benchmarks.
import { randomUUID } from 'node:crypto';
import { CmdType } from '../protocol/commands';
import type { StoredMessage } from '../store/contract';

/** trade / pay-succ, published (and due) at `nowSec`, expiring `ttlSec` later */
export function storedMessage(body: Buffer, nowSec: number, ttlSec = 3600): StoredMessage {
  return {
    header: {
      messageId: randomUUID().replace(/-/g, ''),
      topic: 'trade',
      messageType: 'pay-succ',
      expiredTime: nowSec + ttlSec,
      deliverLimit: 100,
      groupId: 'p-trade',
      commit: true,
      fly: false,
      properties: [],
      createTime: nowSec,
    },
    msgType: CmdType.BYTES_MESSAGE,
    body,
    publishTime: nowSec,
    deliverCount: 0,
    succGroups: [],
    failGroups: [],
    nextDeliverTime: nowSec,
    checkCount: 0,
    kiteServer: '127.0.0.1:13800',
  };
}
