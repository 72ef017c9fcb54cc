// Dead letters (doc/architecture.md §6, §10): GET /dlq?topic=&group=&after=&limit= lists them;
// POST /dlq/redrive {ids:[...]} or {topic, group?, limit?} moves them back and delivers them at once
// (a prepared one is checked back again instead: doc/transactions.md).
import type { DeadLetter } from '../../store/contract';
import type { AdminPort } from './admin-port';
import { HttpError } from './respond';

const MAX_LIST = 1000;
const MAX_REDRIVE = 10_000;
const PAGE = 500;

function summary(letter: DeadLetter) {
  const { message } = letter;
  return {
    messageId: message.header.messageId,
    topic: message.header.topic,
    messageType: message.header.messageType,
    publishGroup: message.header.groupId,
    reason: letter.reason,
    deadTime: new Date(letter.deadTime * 1000).toISOString(),
    attempts: message.deliverCount,
    succeededGroups: message.succGroups,
    failedGroups: message.failGroups,
  };
}

function limitOf(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(raw)}`);
  return Math.min(n, max);
}

export async function listDeadLetters(port: AdminPort, query: URLSearchParams) {
  const limit = limitOf(query.get('limit'), 100, MAX_LIST);
  const letters = await port.listDeadLetters({
    topic: query.get('topic') || undefined,
    groupId: query.get('group') || undefined,
    afterId: query.get('after') || undefined,
    limit,
  });
  const items = letters.map(summary);
  return { items, next: items.length === limit ? items[items.length - 1].messageId : null };
}

export async function redriveDeadLetters(port: AdminPort, body: Record<string, unknown>) {
  const redriven: string[] = [];
  const missing: string[] = [];
  if (body.ids !== undefined) {
    if (!Array.isArray(body.ids) || body.ids.some((id) => typeof id !== 'string'))
      throw new HttpError(400, 'ids must be a list of messageIds');
    if (body.ids.length > MAX_REDRIVE) throw new HttpError(400, `at most ${MAX_REDRIVE} ids per call`);
    for (const id of body.ids as string[]) ((await port.redrive(id)) ? redriven : missing).push(id);
    return { redriven, missing };
  }
  if (typeof body.topic !== 'string' || body.topic === '')
    throw new HttpError(400, 'give {ids:[...]} or {topic, group?, limit?}');
  const limit = limitOf(body.limit, MAX_REDRIVE, MAX_REDRIVE);
  const groupId = typeof body.group === 'string' && body.group !== '' ? body.group : undefined;
  let afterId: string | undefined;
  while (redriven.length < limit) {
    const page = await port.listDeadLetters({
      topic: body.topic,
      groupId,
      afterId,
      limit: Math.min(PAGE, limit - redriven.length),
    });
    for (const letter of page) {
      const id = letter.message.header.messageId;
      ((await port.redrive(id)) ? redriven : missing).push(id);
    }
    if (page.length === 0 || page.length < PAGE) break;
    afterId = page[page.length - 1].message.header.messageId;
  }
  return { redriven, missing };
}
