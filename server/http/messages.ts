// GET /messages/<id> (doc/architecture.md §10): a message's header, state (prepared / committed / dead-letter),
// succeeded and failed groups, groups still owed a delivery, attempts and the next delivery.
// The body is not shown (payment payloads), only its size.
import { BindingTable } from '../../binding/matcher';
import type { DeadLetter, StoredMessage } from '../../store/contract';
import type { AdminPort } from './admin-port';
import { HttpError } from './respond';

export const MESSAGE_ID = /^[0-9a-fA-F]{32}$/;

export type MessageState = 'prepared' | 'committed' | 'dead-letter';

/**
 * The id just before `id` in hex order, so listDeadLetters({afterId}) starts at `id` itself: the
 * store contract pages dead letters by id, and every stored id is 32 hex digits (doc/architecture.md §2).
 */
export function hexPredecessor(id: string): string | undefined {
  const digits = id.split('');
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = parseInt(digits[i], 16);
    if (d > 0) {
      const lower = digits[i] === digits[i].toLowerCase();
      const prev = (d - 1).toString(16);
      digits[i] = lower ? prev : prev.toUpperCase();
      return digits.join('');
    }
    digits[i] = digits[i] === digits[i].toLowerCase() ? 'f' : 'F';
  }
  return undefined; // 000…0: nothing before it
}

export async function findDeadLetter(port: AdminPort, message: StoredMessage): Promise<DeadLetter | undefined> {
  const id = message.header.messageId;
  const [first] = await port.listDeadLetters({ topic: message.header.topic, afterId: hexPredecessor(id), limit: 1 });
  return first?.message.header.messageId === id ? first : undefined;
}

function iso(unixSec: number): string | null {
  return unixSec > 0 ? new Date(unixSec * 1000).toISOString() : null;
}

export async function messageView(port: AdminPort, id: string): Promise<Record<string, unknown>> {
  if (!MESSAGE_ID.test(id)) throw new HttpError(400, `"${id}" is not a messageId (32 hex characters)`);
  const message = await port.getMessage(id);
  if (!message)
    throw new HttpError(404, `no message ${id} in the store (never stored, finished and deleted, or rolled back)`);
  const dead = await findDeadLetter(port, message);
  const { header } = message;
  const state: MessageState = dead ? 'dead-letter' : header.commit ? 'committed' : 'prepared';
  const bound = new BindingTable(port.bindings()).match(header.topic, header.messageType).map((b) => b.groupId);
  const done = new Set(message.succGroups);
  const bodyBytes = typeof message.body === 'string' ? Buffer.byteLength(message.body) : message.body.length;
  return {
    messageId: id,
    state,
    header,
    bodyBytes,
    succeededGroups: message.succGroups,
    failedGroups: message.failGroups,
    pendingGroups: state === 'committed' ? bound.filter((g) => !done.has(g)) : [],
    attempts: message.deliverCount,
    deliverLimit: header.deliverLimit,
    inFlight: port.isInFlight(id),
    // For a prepared message this is when the next tx check-back is due (doc/architecture.md §7).
    nextDeliverTime: message.nextDeliverTime,
    nextDelivery: state === 'dead-letter' ? null : iso(message.nextDeliverTime),
    checkCount: message.checkCount,
    publishTime: iso(message.publishTime),
    expiredTime: iso(header.expiredTime),
    kiteServer: message.kiteServer,
    deadLetter: dead ? { reason: dead.reason, deadTime: iso(dead.deadTime) } : null,
  };
}

/** Bytes of a body the console previews (doc/console.md "Messages"). */
export const BODY_PREVIEW_BYTES = 4096;

/**
 * GET /messages/<id>/body (token, like every change: payloads may be payments): the first 4 KiB of
 * the body, as text for a string message and as hex for a bytes message.
 */
export async function messageBody(port: AdminPort, id: string) {
  if (!MESSAGE_ID.test(id)) throw new HttpError(400, `"${id}" is not a messageId (32 hex characters)`);
  const message = await port.getMessage(id);
  if (!message) throw new HttpError(404, `no message ${id} in the store`);
  const isString = typeof message.body === 'string';
  const bytes = isString ? Buffer.from(message.body as string, 'utf8') : (message.body as Buffer);
  const head = bytes.subarray(0, BODY_PREVIEW_BYTES);
  return {
    messageId: id,
    kind: isString ? 'string' : 'bytes',
    bytes: bytes.length,
    truncated: bytes.length > head.length,
    // a cut in the middle of a UTF-8 sequence shows as U+FFFD, never as an error
    text: isString ? head.toString('utf8') : null,
    hex: isString ? null : head.toString('hex'),
  };
}
