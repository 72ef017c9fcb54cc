// A gateway publish request as the message a native producer would send (doc/http-gateway.md
// "Publish"): the path's topic, `?type=`, the body (text/* or application/json → StringMessage,
// anything else → BytesMessage) and the Kiteq-* headers. Only the HTTP spelling is checked here;
// every rule of the message itself (id format, topic rights, kiteq.deliverAt, expiry) is
// check-message's, as for a native publish.
import type { IncomingMessage } from 'node:http';
import { MAX_EXPIRY_SEC } from '../../handler/check-message';
import { CmdType } from '../../protocol/commands';
import { DELIVER_AT_PROPERTY } from '../../protocol/deliver-at';
import { newMessageId } from '../../protocol/message-id';
import type { Entry, MessageHeader } from '../../protocol/messages/header';
import type { KiteMessage } from '../../protocol/messages/message';
import { GatewayError } from './gateway-error';

export const MESSAGE_ID_HEADER = 'kiteq-message-id';
const DELIVER_AT_HEADER = 'kiteq-deliver-at';
const EXPIRED_TIME_HEADER = 'kiteq-expired-time';
const PROPERTY_PREFIX = 'kiteq-property-';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function badRequest(reason: string): GatewayError {
  return new GatewayError(400, 'bad_request', reason);
}

/** text/* and JSON bodies travel as StringMessage; the charset must be UTF-8 (the protobuf string's). */
export function isTextBody(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json');
}

/** A header value's bytes (node hands them over as latin1) read as UTF-8 when they are, else as latin1. */
function headerText(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/**
 * `Kiteq-Deliver-At`: epoch milliseconds (passed on as the kiteq.deliverAt property, which
 * check-message checks), or an ISO 8601 / HTTP date, turned into epoch milliseconds here.
 */
export function deliverAt(value: string): string {
  if (/^\d+$/.test(value)) return value;
  const ms = /^\d{4}-\d{2}-\d{2}T|^[A-Z][a-z]{2}, /.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? String(ms) : value; // a bad value is check-message's to refuse
}

function expiredTime(value: string): number {
  if (!/^-?\d{1,12}$/.test(value))
    throw badRequest(
      `Bad Kiteq-Expired-Time: expected unix seconds as a decimal integer (got "${value.slice(0, 40)}")`,
    );
  return Number(value);
}

export interface HttpPublish {
  topic: string;
  messageType: string;
  groupId: string;
  /** false: a prepared message (`?prepare=1`), decided by /commit or /rollback */
  commit: boolean;
  /** the id the caller chose (Kiteq-Message-Id), undefined when the broker picks one */
  requestedId: string | undefined;
  message: KiteMessage;
}

export function httpPublish(
  req: IncomingMessage,
  topic: string,
  query: URLSearchParams,
  groupId: string,
  body: Buffer,
  nowMs: number,
): HttpPublish {
  const { messageType, commit } = publishQuery(query);
  const requested = req.headers[MESSAGE_ID_HEADER];
  const requestedId = typeof requested === 'string' ? requested.trim() : undefined;
  const properties: Entry[] = [];
  let expired = -1;
  let scheduled = false;
  const raw = req.rawHeaders; // the caller's spelling: property names keep their case
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length < 6 || (name.charCodeAt(0) | 32) !== 107 /* k */) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(PROPERTY_PREFIX)) {
      const key = name.slice(PROPERTY_PREFIX.length);
      if (key === '') throw badRequest('Kiteq-Property- needs a property name after it');
      properties.push({ key, value: headerText(raw[i + 1]) });
    } else if (lower === DELIVER_AT_HEADER) {
      properties.push({ key: DELIVER_AT_PROPERTY, value: deliverAt(raw[i + 1].trim()) });
      scheduled = true;
    } else if (lower === EXPIRED_TIME_HEADER) expired = expiredTime(raw[i + 1].trim());
  }
  let content: string | Buffer = body;
  if (isTextBody(req.headers['content-type'])) {
    try {
      content = utf8.decode(body);
    } catch {
      throw badRequest('a text/* or application/json body must be UTF-8');
    }
  }
  return newPublish(
    { topic, messageType, groupId, commit, requestedId, properties, expired, scheduled },
    content,
    nowMs,
  );
}

/** `?type=` (required) and `?prepare=`, of a single or a batch publish. */
export function publishQuery(query: URLSearchParams): { messageType: string; commit: boolean } {
  const messageType = query.get('type');
  if (messageType === null || messageType === '')
    throw badRequest('the query parameter type (the message type) is required');
  const prepare = query.get('prepare');
  if (prepare !== null && prepare !== '0' && prepare !== '1' && prepare !== 'true' && prepare !== 'false')
    throw badRequest('prepare must be 1 or 0');
  return { messageType, commit: prepare === null || prepare === '0' || prepare === 'false' };
}

/** What a request says of one message, however it spells it (headers, or a batch item). */
export interface PublishFields {
  topic: string;
  messageType: string;
  groupId: string;
  commit: boolean;
  requestedId: string | undefined;
  /** kiteq.deliverAt among them when scheduled */
  properties: Entry[];
  /** unix seconds, -1 when not given */
  expired: number;
  scheduled: boolean;
}

/** The message a native producer would send: a string body is a StringMessage, bytes a BytesMessage. */
export function newPublish(fields: PublishFields, body: string | Buffer, nowMs: number): HttpPublish {
  const { topic, messageType, groupId, commit, requestedId, properties, scheduled } = fields;
  let expired = fields.expired;
  const nowSec = Math.floor(nowMs / 1000);
  // Unscheduled and without an expiry: the default check-message would set (doc/architecture.md §4),
  // so it changes nothing and the encoded publish is the delivery body as it is (no second encode).
  if (expired === -1 && !scheduled) expired = nowSec + MAX_EXPIRY_SEC;
  const header: MessageHeader = {
    messageId: requestedId ?? newMessageId(),
    topic,
    messageType,
    expiredTime: expired,
    deliverLimit: 100,
    groupId,
    commit,
    fly: false,
    properties,
    createTime: nowSec,
  };
  const message: KiteMessage =
    typeof body === 'string'
      ? { cmdType: CmdType.STRING_MESSAGE, header, body }
      : { cmdType: CmdType.BYTES_MESSAGE, header, body };
  return { topic, messageType, groupId, commit, requestedId, message };
}
