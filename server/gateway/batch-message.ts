// A batch publish's body (doc/http-gateway.md "Batch publish"): a JSON array of at most
// BATCH_MAX_MESSAGES messages, each `{body | bodyBase64, messageId?, deliverAt?, expiredTime?,
// properties?}`, read into the messages a single publish of each would make. The whole body is
// checked before any message is published: a malformed one is refused (400) with nothing stored.
import { DELIVER_AT_PROPERTY } from '../../protocol/deliver-at';
import type { Entry } from '../../protocol/messages/header';
import { GatewayError } from './gateway-error';
import { badRequest, deliverAt, type HttpPublish, newPublish, publishQuery, type PublishFields } from './http-message';

/** Most messages in one batch request: its answer lists each, and they are held in memory together. */
export const BATCH_MAX_MESSAGES = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const FIELDS = new Set(['body', 'bodyBase64', 'messageId', 'deliverAt', 'expiredTime', 'properties']);

const fromBase64 = (text: string): Buffer => Buffer.from(text, 'base64');

/**
 * The bytes padded base64 of this length holds, -1 for a length it cannot have. Buffer.from skips
 * characters outside the alphabet and stops at '=', so a decoded length short of this is bad input
 * (cheaper than a regular expression over the body: doc/performance-log.md).
 */
function base64Bytes(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

/** The fields every message of the batch shares: the path's topic, the query's type and prepare, the caller. */
type BatchFields = Pick<PublishFields, 'topic' | 'messageType' | 'groupId' | 'commit'>;

function item(value: unknown, index: number, fields: BatchFields, nowMs: number): HttpPublish {
  // the message's name is built only for a refusal: this runs per message of every batch
  const bad = (what: string) => badRequest(`messages[${index}]${what}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(': a message is a JSON object');
  const m = value as Record<string, unknown>;
  for (const key in m) if (!FIELDS.has(key)) throw bad(`: unknown field "${key.slice(0, 40)}"`);
  let body: string | Buffer;
  if (typeof m.body === 'string' && m.bodyBase64 === undefined) body = m.body;
  else if (typeof m.bodyBase64 === 'string' && m.body === undefined) {
    body = fromBase64(m.bodyBase64);
    if (body.length !== base64Bytes(m.bodyBase64)) throw bad('.bodyBase64 is not base64');
  } else throw bad(': give either body (text) or bodyBase64 (bytes), as a string');
  if (m.messageId !== undefined && typeof m.messageId !== 'string')
    throw bad('.messageId: 32 hex characters, as a string');
  const properties: Entry[] = [];
  const given = m.properties;
  if (given !== undefined) {
    if (given === null || typeof given !== 'object' || Array.isArray(given))
      throw bad('.properties: an object of string values');
    for (const key in given) {
      const v = (given as Record<string, unknown>)[key];
      if (typeof v !== 'string') throw bad(`.properties.${key.slice(0, 40)}: a string value`);
      properties.push({ key, value: v });
    }
  }
  const scheduled = m.deliverAt !== undefined;
  if (scheduled) {
    if (typeof m.deliverAt !== 'string' && typeof m.deliverAt !== 'number')
      throw bad('.deliverAt: epoch milliseconds, or an ISO 8601 date');
    properties.push({ key: DELIVER_AT_PROPERTY, value: deliverAt(String(m.deliverAt).trim()) });
  }
  let expired = -1;
  if (m.expiredTime !== undefined) {
    if (typeof m.expiredTime !== 'number' || !Number.isSafeInteger(m.expiredTime))
      throw bad('.expiredTime: unix seconds, as an integer');
    expired = m.expiredTime;
  }
  return newPublish(
    {
      topic: fields.topic,
      messageType: fields.messageType,
      groupId: fields.groupId,
      commit: fields.commit,
      requestedId: m.messageId === undefined ? undefined : m.messageId.trim(),
      properties,
      expired,
      scheduled,
    },
    body,
    nowMs,
  );
}

export function batchPublishes(
  topic: string,
  query: URLSearchParams,
  groupId: string,
  body: Buffer,
  nowMs: number,
): HttpPublish[] {
  const { messageType, commit } = publishQuery(query);
  let items: unknown;
  try {
    items = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw badRequest(`the body is not UTF-8 JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  if (!Array.isArray(items)) throw badRequest('the body is a JSON array of messages');
  if (items.length === 0) throw badRequest('a batch holds at least one message');
  if (items.length > BATCH_MAX_MESSAGES)
    throw new GatewayError(
      413,
      'payload_too_large',
      `a batch holds at most ${BATCH_MAX_MESSAGES} messages (got ${items.length})`,
    );
  const fields = { topic, messageType, groupId, commit };
  return items.map((value, i) => item(value, i, fields, nowMs));
}
