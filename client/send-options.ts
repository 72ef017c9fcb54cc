// Per-send options (doc/delayed-delivery.md): a delivery time becomes the header property
// `kiteq.deliverAt` (epoch ms, decimal string), which is all the broker reads.
import { DELIVER_AT_PROPERTY } from '../protocol/deliver-at';
import type { Message } from './message-builder';

export interface SendOptions {
  /** deliver no earlier than this time (a Date or epoch milliseconds) */
  deliverAt?: Date | number;
  /** deliver no earlier than this many milliseconds from now */
  delayMs?: number;
}

/** The message with its delivery time set (a copy; the caller's message is not changed). */
export function withSendOptions(message: Message, options: SendOptions | undefined): Message {
  if (options === undefined || (options.deliverAt === undefined && options.delayMs === undefined)) return message;
  if (options.deliverAt !== undefined && options.delayMs !== undefined)
    throw new TypeError('send options: give deliverAt or delayMs, not both');
  const atMs = options.deliverAt !== undefined ? +options.deliverAt : Date.now() + Number(options.delayMs);
  if (!Number.isFinite(atMs) || atMs < 0)
    throw new TypeError(`send options: bad delivery time ${String(options.deliverAt ?? options.delayMs)}`);
  const value = String(Math.ceil(atMs)); // never early: a fraction of a millisecond rounds up
  const properties = message.header.properties.filter((entry) => entry.key !== DELIVER_AT_PROPERTY);
  properties.push({ key: DELIVER_AT_PROPERTY, value });
  return { ...message, header: { ...message.header, properties } } as Message;
}
