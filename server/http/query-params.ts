// Parameters the admin endpoints share (doc/operations.md "Admin HTTP API"): a page size, an epoch-ms
// or ISO time, and the (nextDeliverTime, messageId) cursor of the lists in due order. 400 when malformed.
import type { DueCursor } from '../../store/contract';
import { HttpError } from './respond';

/** A positive integer, `fallback` when absent, at most `max`. */
export function limitParam(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(raw)}`);
  return Math.min(n, max);
}

/** Epoch milliseconds (digits only) or an ISO time, as epoch milliseconds. */
export function epochMsParam(raw: string, name: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms))
    throw new HttpError(400, `${name} must be epoch milliseconds or an ISO time, got ${JSON.stringify(raw)}`);
  return ms;
}

/** `after` is the `next` of the previous page: "<nextDeliverTime>:<messageId>". */
const CURSOR = /^(\d+):([0-9a-f]{32})$/;

export function dueCursorParam(after: string | null): DueCursor | undefined {
  if (!after) return undefined;
  const cursor = CURSOR.exec(after);
  if (!cursor) throw new HttpError(400, `after must be the "next" of a previous page, got ${JSON.stringify(after)}`);
  return { nextDeliverTime: Number(cursor[1]), messageId: cursor[2] };
}

export function dueCursorText(cursor: DueCursor | null | undefined): string | null {
  return cursor ? `${cursor.nextDeliverTime}:${cursor.messageId}` : null;
}
