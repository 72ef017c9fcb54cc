// GET /transactions?after=&limit= (doc/console.md "Transactions", doc/transactions.md): prepared messages
// in order of their next check-back, with the check-backs sent so far. Paged by (next check, id).
import type { AdminPort } from './admin-port';
import { HttpError } from './respond';

const MAX_LIST = 1000;
const CURSOR = /^(\d+):([0-9a-fA-F]{32})$/;

export async function listTransactions(port: AdminPort, query: URLSearchParams) {
  const rawLimit = query.get('limit');
  const limit = rawLimit ? Number(rawLimit) : 100;
  if (!Number.isInteger(limit) || limit <= 0)
    throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(rawLimit)}`);
  const after = query.get('after');
  const cursor = after ? CURSOR.exec(after) : null;
  if (after && !cursor)
    throw new HttpError(400, `after must be the "next" of a previous page, got ${JSON.stringify(after)}`);
  const capped = Math.min(limit, MAX_LIST);
  const page = await port.listPrepared({
    after: cursor ? { nextDeliverTime: Number(cursor[1]), messageId: cursor[2] } : undefined,
    limit: capped,
  });
  const items = page.map((message) => ({
    messageId: message.header.messageId,
    topic: message.header.topic,
    messageType: message.header.messageType,
    publishGroup: message.header.groupId,
    publishTime: new Date(message.publishTime * 1000).toISOString(),
    checkCount: message.checkCount,
    nextCheck: new Date(message.nextDeliverTime * 1000).toISOString(),
    nextDeliverTime: message.nextDeliverTime,
  }));
  const last = page[page.length - 1];
  return { items, next: page.length === capped && last ? `${last.nextDeliverTime}:${last.header.messageId}` : null };
}
