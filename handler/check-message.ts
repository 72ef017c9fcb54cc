// doc/architecture.md §5 "check-message": header normalisation and the rejections of doc/architecture.md §4.
import { deliverAtValue, parseDeliverAt } from '../protocol/deliver-at';
import { encodeHeader } from '../protocol/messages/header';
import { Reasons } from '../protocol/reasons';
import type { StoredMessage } from '../store/contract';
import type { CheckedPublish, PublishEvent } from './events';

export const MAX_DELIVER_LIMIT = 100;
export const MAX_EXPIRY_SEC = 7 * 24 * 3600;

/**
 * 0: 32 lowercase hex digits; 1: 32 hex digits, some of them uppercase; -1: not a message id
 * (doc/architecture.md §4). One pass per publish, where a regular expression and a lowercasing took two.
 */
function messageIdCase(id: string): number {
  if (id.length !== 32) return -1;
  let upper = 0;
  for (let i = 0; i < 32; i++) {
    const c = id.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) upper = 1;
    else return -1;
  }
  return upper;
}

export interface CheckMessageDeps {
  /** topics this broker serves */
  servesTopic: (topic: string) => boolean;
  /** may this group publish to this topic (access control) */
  mayPublish: (groupId: string, topic: string) => boolean;
  serverName: string;
  /** a kiteq.deliverAt further ahead than this is refused (doc/delayed-delivery.md) */
  maxDelayMs: number;
  nowMs: () => number;
  toPersist: (event: CheckedPublish) => void;
}

/** A store-ack false with the reason (no closure per publish on the hot path). */
function refuse({ session, opaque, message }: PublishEvent, text: string): void {
  session.sendStoreAck(opaque, message.header.messageId, false, text);
}

export function createCheckMessageStage(deps: CheckMessageDeps) {
  const { servesTopic, mayPublish, serverName, maxDelayMs, nowMs, toPersist } = deps;
  return function checkMessage(event: PublishEvent): void {
    const { session, message } = event;
    const header = message.header; // freshly decoded for this publish: normalised in place
    const nowMsec = nowMs();
    const now = Math.floor(nowMsec / 1000);

    const idCase = messageIdCase(header.messageId);
    if (idCase < 0) return refuse(event, Reasons.invalidMessageId.text);
    // The header's group is who gets the check-backs and may decide a prepared message: it must be
    // the group this connection authenticated as (KiteQ's client always sets its own), never another.
    if (header.groupId !== session.groupId)
      return refuse(
        event,
        `${Reasons.groupMismatch.text} (header "${header.groupId.slice(0, 64)}", connection "${session.groupId}")`,
      );
    if (!servesTopic(header.topic)) return refuse(event, `${Reasons.topicNotServed.text} (${header.topic})`);
    if (!mayPublish(session.groupId, header.topic))
      return refuse(event, `${Reasons.forbidden.text} (${session.groupId} → ${header.topic})`);
    // doc/delayed-delivery.md: a scheduled message is refused when the broker cannot keep its time,
    // never delivered at once. A time not ahead of now is delivered at once like any message.
    let deliverAtMs = 0;
    if (header.properties.length > 0) {
      const value = deliverAtValue(header);
      if (value !== undefined) {
        deliverAtMs = parseDeliverAt(value);
        if (Number.isNaN(deliverAtMs))
          return refuse(event, `${Reasons.badDeliverAt.text} (got "${value.slice(0, 40)}")`);
        if (deliverAtMs - nowMsec > maxDelayMs)
          return refuse(event, `${Reasons.delayTooLong.text} (${Math.floor(maxDelayMs / 1000)} s)`);
        if (deliverAtMs <= nowMsec) deliverAtMs = 0;
        else if (header.fly) return refuse(event, Reasons.flyCannotBeDelayed.text);
      }
    }
    // The expiry window counts from the delivery time: a message scheduled 30 days ahead with no
    // expiry lives until 7 days after it is due.
    const deliverAtSec = Math.ceil(deliverAtMs / 1000);
    const expiryBase = Math.max(now, deliverAtSec);
    // doc/architecture.md §4: createTime ≤ 0 → now; deliverLimit ≤ 0 or > 100 → 100;
    // expiredTime ≤ 0 or more than 7 days ahead → now + 7 days; already past → "Expired Message!".
    // `normalised` tracks whether any field changed: if none did, the received bytes are the
    // delivery packet body as they are, and deliver need not encode the message again.
    let normalised = false;
    if (!(Number(header.createTime) > 0)) {
      header.createTime = now;
      normalised = true;
    }
    if (header.deliverLimit <= 0 || header.deliverLimit > MAX_DELIVER_LIMIT) {
      header.deliverLimit = MAX_DELIVER_LIMIT;
      normalised = true;
    }
    if (header.expiredTime <= 0 || header.expiredTime > expiryBase + MAX_EXPIRY_SEC) {
      header.expiredTime = expiryBase + MAX_EXPIRY_SEC;
      normalised = true;
    } else if (header.expiredTime < now) return refuse(event, Reasons.expired.text);
    else if (header.expiredTime * 1000 < deliverAtMs)
      return refuse(
        event,
        `${Reasons.expiresBeforeDeliverAt.text} (expiredTime ${header.expiredTime} s, kiteq.deliverAt ${deliverAtMs} ms)`,
      );
    if (header.fly && !header.commit) {
      header.fly = false;
      normalised = true;
    } // doc/architecture.md §4: fly only with commit
    if (idCase > 0) {
      header.messageId = header.messageId.toLowerCase();
      normalised = true;
    }

    const stored: StoredMessage = {
      header,
      msgType: message.cmdType,
      body:
        typeof message.body === 'string' || Buffer.isBuffer(message.body)
          ? message.body
          : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.length),
      publishTime: now,
      deliverCount: 0,
      succGroups: [],
      failGroups: [],
      // never early: a time inside a second is due at the next whole second (persist sets a
      // prepared message's check-back time instead; its commit defers it, deliver-prepare.ts)
      nextDeliverTime: Math.max(now, deliverAtSec),
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
