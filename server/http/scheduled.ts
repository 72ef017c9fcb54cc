// Scheduled messages over HTTP (doc/delayed-delivery.md): GET /scheduled?topic=&before=&after=&limit=
// lists those not yet due; DELETE /messages/<id> cancels one (bearer token, like every change).
import type { AdminPort } from './admin-port';
import { MESSAGE_ID } from './messages';
import { HttpError } from './respond';

const MAX_LIST = 1000;
/** `after` is the `next` of the previous page: "<nextDeliverTime>:<messageId>" */
const CURSOR = /^(\d+):([0-9a-f]{32})$/;

function timeOf(raw: string, name: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms))
    throw new HttpError(400, `${name} must be epoch milliseconds or an ISO time, got ${JSON.stringify(raw)}`);
  return ms;
}

export async function listScheduled(port: AdminPort, query: URLSearchParams) {
  const rawLimit = query.get('limit');
  const limit = rawLimit ? Number(rawLimit) : 100;
  if (!Number.isInteger(limit) || limit <= 0)
    throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(rawLimit)}`);
  const before = query.get('before');
  const after = query.get('after');
  const cursor = after ? CURSOR.exec(after) : null;
  if (after && !cursor)
    throw new HttpError(400, `after must be the "next" of a previous page, got ${JSON.stringify(after)}`);
  const page = await port.listScheduled({
    topic: query.get('topic') || undefined,
    beforeMs: before ? timeOf(before, 'before') : Number.MAX_SAFE_INTEGER,
    after: cursor ? { nextDeliverTime: Number(cursor[1]), messageId: cursor[2] } : undefined,
    limit: Math.min(limit, MAX_LIST),
  });
  return {
    items: page.items.map(({ message, deliverAtMs }) => ({
      messageId: message.header.messageId,
      topic: message.header.topic,
      messageType: message.header.messageType,
      publishGroup: message.header.groupId,
      deliverAt: new Date(deliverAtMs).toISOString(),
      deliverAtMs,
    })),
    next: page.next ? `${page.next.nextDeliverTime}:${page.next.messageId}` : null,
  };
}

export async function cancelScheduled(port: AdminPort, id: string) {
  if (!MESSAGE_ID.test(id)) throw new HttpError(400, `"${id}" is not a messageId (32 hex characters)`);
  const outcome = await port.cancelScheduled(id);
  if (outcome === 'unknown') throw new HttpError(404, `no message ${id} in the store`);
  if (outcome === 'notScheduled')
    throw new HttpError(
      409,
      `message ${id} is not scheduled (no kiteq.deliverAt ahead): its delivery may have begun; nothing changed`,
    );
  return { cancelled: id.toLowerCase() };
}
