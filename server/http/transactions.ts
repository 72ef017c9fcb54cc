// GET /transactions?after=&limit= (doc/console.md "Transactions", doc/transactions.md): prepared messages
// in order of their next check-back, with the check-backs sent so far. Paged by (next check, id).
import type { AdminPort } from './admin-port';
import { dueCursorParam, dueCursorText, limitParam } from './query-params';

const MAX_LIST = 1000;

export async function listTransactions(port: AdminPort, query: URLSearchParams) {
  const limit = limitParam(query.get('limit'), 100, MAX_LIST);
  const page = await port.listPrepared({ after: dueCursorParam(query.get('after')), limit });
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
  const last = page.length === limit ? page[page.length - 1] : undefined;
  return {
    items,
    next: dueCursorText(last && { nextDeliverTime: last.nextDeliverTime, messageId: last.header.messageId }),
  };
}
