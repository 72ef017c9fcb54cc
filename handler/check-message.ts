// doc/architecture.md §5 "check-message": header normalisation and the rejections of doc/architecture.md §4.
import { encodeHeader } from '../protocol/messages/header';
import { Reasons } from '../protocol/reasons';
import type { StoredMessage } from '../store/contract';
import type { CheckedPublish, PublishEvent } from './events';

export const MAX_DELIVER_LIMIT = 100;
export const MAX_EXPIRY_SEC = 7 * 24 * 3600;

const MESSAGE_ID = /^[0-9a-fA-F]{32}$/;

export interface CheckMessageDeps {
  /** topics this broker serves */
  servesTopic: (topic: string) => boolean;
  /** may this group publish to this topic (access control) */
  mayPublish: (groupId: string, topic: string) => boolean;
  serverName: string;
  nowMs: () => number;
  toPersist: (event: CheckedPublish) => void;
}

/** A store-ack false with the reason (no closure per publish on the hot path). */
function refuse({ session, opaque, message }: PublishEvent, text: string): void {
  session.sendStoreAck(opaque, message.header.messageId, false, text);
}

export function createCheckMessageStage(deps: CheckMessageDeps) {
  const { servesTopic, mayPublish, serverName, nowMs, toPersist } = deps;
  return function checkMessage(event: PublishEvent): void {
    const { session, message } = event;
    const header = message.header; // freshly decoded for this publish: normalised in place
    const now = Math.floor(nowMs() / 1000);

    if (!MESSAGE_ID.test(header.messageId)) return refuse(event, Reasons.invalidMessageId.text);
    // The header's group is who gets the check-backs and may decide a prepared message: it must be
    // the group this connection authenticated as (KiteQ's client always sets its own), never another.
    if (header.groupId !== session.groupId) return refuse(event, `${Reasons.groupMismatch.text} (header "${header.groupId.slice(0, 64)}", connection "${session.groupId}")`);
    if (!servesTopic(header.topic)) return refuse(event, `${Reasons.topicNotServed.text} (${header.topic})`);
    if (!mayPublish(session.groupId, header.topic)) return refuse(event, `${Reasons.forbidden.text} (${session.groupId} → ${header.topic})`);
    // doc/architecture.md §4: createTime ≤ 0 → now; deliverLimit ≤ 0 or > 100 → 100;
    // expiredTime ≤ 0 or more than 7 days ahead → now + 7 days; already past → "Expired Message!".
    // `normalised` tracks whether any field changed: if none did, the received bytes are the
    // delivery packet body as they are, and deliver need not encode the message again.
    let normalised = false;
    if (!(Number(header.createTime) > 0)) { header.createTime = now; normalised = true; }
    if (header.deliverLimit <= 0 || header.deliverLimit > MAX_DELIVER_LIMIT) { header.deliverLimit = MAX_DELIVER_LIMIT; normalised = true; }
    if (header.expiredTime <= 0 || header.expiredTime > now + MAX_EXPIRY_SEC) { header.expiredTime = now + MAX_EXPIRY_SEC; normalised = true; }
    else if (header.expiredTime < now) return refuse(event, Reasons.expired.text);
    if (header.fly && !header.commit) { header.fly = false; normalised = true; } // doc/architecture.md §4: fly only with commit
    const lower = header.messageId.toLowerCase();
    if (lower !== header.messageId) { header.messageId = lower; normalised = true; }

    const stored: StoredMessage = {
      header,
      msgType: message.cmdType,
      body: typeof message.body === 'string' || Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.length),
      publishTime: now,
      deliverCount: 0,
      succGroups: [],
      failGroups: [],
      nextDeliverTime: now,
      checkCount: 0,
      kiteServer: serverName,
    };
    // Changed: the received header bytes are stale; encode it once for the store and the delivery.
    if (normalised) stored.encodedHeader = encodeHeader(header);
    const checked = event as CheckedPublish;
    checked.stored = stored;
    checked.rawIsDeliverable = !normalised;
    toPersist(checked);
  };
}
