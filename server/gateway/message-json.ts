// A delivered message as the HTTP gateway hands it out, in a pull answer and a webhook POST
// (doc/http-gateway.md "Pull consume"): text for a StringMessage, base64 for a BytesMessage (or a
// snappy-compressed body, passed through untouched as the native protocol does).
import { CmdType } from '../../protocol/commands';
import type { StoredMessage } from '../../store/contract';

export interface GatewayMessage {
  messageId: string;
  topic: string;
  messageType: string;
  /** the publishing group */
  groupId: string;
  properties: Record<string, string>;
  /** this delivery's attempt, 1 for the first */
  attempt: number;
  /** unix seconds */
  createTime?: number;
  /** unix seconds; absent when unset */
  expiredTime?: number;
  /** the body is snappy-compressed as the producer sent it (then always bodyBase64) */
  snappy?: true;
  body?: string;
  bodyBase64?: string;
}

export function gatewayMessage(message: StoredMessage, attempt: number): GatewayMessage {
  const { header, body } = message;
  const properties: Record<string, string> = {};
  for (const { key, value } of header.properties) properties[key] = value;
  const out: GatewayMessage = {
    messageId: header.messageId,
    topic: header.topic,
    messageType: header.messageType,
    groupId: header.groupId,
    properties,
    attempt,
  };
  if (header.createTime !== undefined && header.createTime > 0) out.createTime = header.createTime;
  if (header.expiredTime > 0) out.expiredTime = header.expiredTime;
  if (header.snappy) out.snappy = true;
  if (message.msgType === CmdType.STRING_MESSAGE && !header.snappy)
    out.body = typeof body === 'string' ? body : body.toString('utf8');
  else out.bodyBase64 = (typeof body === 'string' ? Buffer.from(body, 'utf8') : body).toString('base64');
  return out;
}
