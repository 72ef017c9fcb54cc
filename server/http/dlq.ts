// Dead letters (doc/architecture.md §6, §10, doc/console.md): GET /dlq?topic=&group=&reason=&from=&to=&after=&limit=
// lists them, GET /dlq/count the same filter's count; POST /dlq/redrive moves them back and delivers them
// at once (a prepared one is checked back again instead: doc/transactions.md); POST /dlq/delete removes
// them for good. Both take {ids:[...]} or a filter {topic?, group?, reason?, from?, to?, limit?}.
import type { DeadLetter } from '../../store/contract';
import type { AdminPort } from './admin-port';
import { epochMsParam, limitParam } from './query-params';
import { HttpError } from './respond';

const MAX_LIST = 1000;
const MAX_ACTION = 10_000;
/** /dlq/count stops here and says so ("capped"): counting reads every dead letter it passes */
const MAX_COUNT = 100_000;
const PAGE = 500;
/** a listing reads at most this many dead letters (the console polls it every second; a filter on reason or time may match none) */
const MAX_LIST_SCAN = 10_000;

/** What the store filters (topic, group) and what is filtered after reading (reason, dead time). */
export interface DeadLetterFilter {
  topic?: string;
  groupId?: string;
  /** substring of the reason, case-insensitive */
  reason?: string;
  /** dead time within [fromSec, toSec] */
  fromSec?: number;
  toSec?: number;
}

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

function text(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw !== '' ? raw : undefined;
}

function timeSec(raw: unknown, name: string): number | undefined {
  const value = text(typeof raw === 'number' ? String(raw) : raw);
  if (value === undefined) return undefined;
  return epochMsParam(value, name) / 1000;
}

export function filterOf(get: (name: string) => unknown): DeadLetterFilter {
  return {
    topic: text(get('topic')),
    groupId: text(get('group')),
    reason: text(get('reason'))?.toLowerCase(),
    fromSec: timeSec(get('from'), 'from'),
    toSec: timeSec(get('to'), 'to'),
  };
}

function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && !letter.reason.toLowerCase().includes(filter.reason)) return false;
  if (filter.fromSec !== undefined && letter.deadTime < Math.floor(filter.fromSec)) return false;
  if (filter.toSec !== undefined && letter.deadTime > filter.toSec) return false;
  return true;
}

function filtersAfterReading(filter: DeadLetterFilter): boolean {
  return filter.reason !== undefined || filter.fromSec !== undefined || filter.toSec !== undefined;
}

/**
 * Walks the dead letters matching the filter in id order from `afterId`, handing each to `visit`
 * until it returns false or `maxScan` were read. Resolves with the last id read (the cursor of the
 * next page) or null at the end. `want` sizes the store's pages when the store does all the filtering.
 */
async function walk(
  port: AdminPort,
  filter: DeadLetterFilter,
  afterId: string | undefined,
  visit: (letter: DeadLetter) => boolean | Promise<boolean>,
  { want = PAGE, maxScan = Infinity } = {},
): Promise<string | null> {
  const pageSize = filtersAfterReading(filter) ? PAGE : Math.min(PAGE, want);
  let cursor = afterId;
  let scanned = 0;
  for (;;) {
    const page = await port.listDeadLetters({
      topic: filter.topic,
      groupId: filter.groupId,
      afterId: cursor,
      limit: pageSize,
    });
    for (const letter of page) {
      cursor = letter.message.header.messageId;
      if (matches(letter, filter) && !(await visit(letter))) return cursor;
      if (++scanned >= maxScan) return cursor;
    }
    if (page.length < pageSize) return null;
  }
}

export async function listDeadLetters(port: AdminPort, query: URLSearchParams) {
  const limit = limitParam(query.get('limit'), 100, MAX_LIST);
  const items: ReturnType<typeof summary>[] = [];
  const end = await walk(
    port,
    filterOf((n) => query.get(n)),
    query.get('after') || undefined,
    (letter) => {
      items.push(summary(letter));
      return items.length < limit;
    },
    { want: limit, maxScan: MAX_LIST_SCAN },
  );
  return { items, next: end };
}

export async function countDeadLetters(port: AdminPort, query: URLSearchParams) {
  let count = 0;
  const end = await walk(
    port,
    filterOf((n) => query.get(n)),
    undefined,
    () => ++count < MAX_COUNT,
  );
  return { count, capped: end !== null };
}

type Action = (port: AdminPort, messageId: string) => Promise<boolean>;

/** {ids} or a filter; at most MAX_ACTION a call. `done` = acted on, `missing` = not a dead letter (any more). */
async function applyTo(port: AdminPort, body: Record<string, unknown>, action: Action) {
  const done: string[] = [];
  const missing: string[] = [];
  if (body.ids !== undefined) {
    if (!Array.isArray(body.ids) || body.ids.some((id) => typeof id !== 'string'))
      throw new HttpError(400, 'ids must be a list of messageIds');
    if (body.ids.length > MAX_ACTION) throw new HttpError(400, `at most ${MAX_ACTION} ids per call`);
    for (const id of body.ids as string[]) ((await action(port, id)) ? done : missing).push(id);
    return { done, missing };
  }
  const filter = filterOf((n) => body[n]);
  if (!filter.topic && !filter.groupId && !filter.reason && filter.fromSec === undefined && filter.toSec === undefined)
    throw new HttpError(400, 'give {ids:[...]} or a filter {topic?, group?, reason?, from?, to?, limit?}');
  const limit = limitParam(body.limit, MAX_ACTION, MAX_ACTION);
  // Collect first, act after: acting while paging would move the cursor under the walk.
  const ids: string[] = [];
  await walk(port, filter, undefined, (letter) => ids.push(letter.message.header.messageId) < limit);
  for (const id of ids) ((await action(port, id)) ? done : missing).push(id);
  return { done, missing };
}

export async function redriveDeadLetters(port: AdminPort, body: Record<string, unknown>) {
  const { done, missing } = await applyTo(port, body, (p, id) => p.redrive(id));
  return { redriven: done, missing };
}

export async function deleteDeadLetters(port: AdminPort, body: Record<string, unknown>) {
  const { done, missing } = await applyTo(port, body, (p, id) => p.deleteDeadLetter(id));
  return { deleted: done, missing };
}
