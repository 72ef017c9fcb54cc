// Scheduled messages over HTTP (doc/delayed-delivery.md): GET /scheduled?topic=&before=&after=&limit=
// lists those not yet due; DELETE /messages/<id> cancels one (bearer token, like every change).
import type { AdminPort } from './admin-port';
import { MESSAGE_ID } from './messages';
import { dueCursorParam, dueCursorText, epochMsParam, limitParam } from './query-params';
import { HttpError } from './respond';

const MAX_LIST = 1000;

export async function listScheduled(port: AdminPort, query: URLSearchParams) {
  const before = query.get('before');
  const page = await port.listScheduled({
    topic: query.get('topic') || undefined,
    beforeMs: before ? epochMsParam(before, 'before') : Number.MAX_SAFE_INTEGER,
    after: dueCursorParam(query.get('after')),
    limit: limitParam(query.get('limit'), 100, MAX_LIST),
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
    next: dueCursorText(page.next),
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
