// get() for the file store: the state comes from the index, the immutable message from the body
// cache or one positional read of its MESSAGE record (CRC checked).
import type { StoredMessage } from '../contract';
import type { MessageHeader } from '../../protocol/messages/header';
import type { StoreError } from '../errors';
import { StoreUnavailableError } from '../errors';
import type { BodyCache } from './body-cache';
import { checkFrame, decodeHead, decodeImmutable, type ImmutableMessage, immutableOf } from './record-codec';
import { type OpenSegment, readFully } from './segment-files';
import type { StoreState } from './store-state';

export interface ReadDeps {
  state: StoreState;
  cache: BodyCache;
  segment(id: number): OpenSegment | undefined;
  toStoreError(error: unknown, doing: string): StoreError;
}

async function readImmutable(deps: ReadDeps, id: string, slot: number): Promise<ImmutableMessage | undefined> {
  const index = deps.state.index;
  // compaction may move the record (and delete its segment) while we read: look again, then once more
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!index.holds(slot, id) || !index.isVisible(slot)) return undefined;
    const segmentId = index.seg[slot]!;
    const offset = index.offset[slot]!;
    const record = Buffer.allocUnsafe(index.length[slot]!);
    const segment = deps.segment(segmentId);
    try {
      if (!segment) throw new Error(`segment ${segmentId} is not open`);
      const got = await readFully(segment.file, record, offset);
      if (checkFrame(record, 0, got) !== 'ok') throw new Error(`record at ${segmentId}:${offset} fails its CRC`);
      return decodeImmutable(immutableOf(record));
    } catch (error) {
      const moved = !index.holds(slot, id) || index.seg[slot] !== segmentId || index.offset[slot] !== offset;
      if (!moved) throw deps.toStoreError(error, `reading message ${id}`);
    }
  }
  throw new StoreUnavailableError(`file store: message ${id} kept moving while being read`);
}

/**
 * `cache: false` for scans (pageDue): a recovery walk reads each message once, and caching it would
 * only push out the entries that get() calls (tx commits, retries) are about to need.
 */
export async function readStoredMessage(
  deps: ReadDeps,
  id: string,
  options: { cache: boolean } = { cache: true },
): Promise<StoredMessage | undefined> {
  const index = deps.state.index;
  const slot = index.slotOf(id);
  if (slot === undefined || !index.isVisible(slot)) return undefined;
  let message = deps.cache.get(id);
  if (!message) {
    message = await readImmutable(deps, id, slot);
    if (!message) return undefined;
    if (options.cache) deps.cache.put(id, message);
  }
  if (!index.holds(slot, id) || !index.isVisible(slot)) return undefined;
  const state = index.stateOf(slot);
  return {
    header: {
      ...message.header,
      properties: message.header.properties.map((e) => ({ ...e })),
      commit: index.isCommitted(slot),
    },
    msgType: message.msgType,
    body: message.body,
    publishTime: message.publishTime,
    deliverCount: state.deliverCount,
    succGroups: state.succGroups,
    failGroups: state.failGroups,
    nextDeliverTime: state.nextDeliverTime,
    checkCount: state.checkCount,
    kiteServer: message.kiteServer,
  };
}

/** bytes read first by readHead(): a MESSAGE record's header fits in them unless its properties are large */
const HEAD_BYTES = 1024;

/**
 * The publishTime and header of the message in `slot` (doc/console.md "Per-group backlog"): the
 * body cache, else the record's first KiB (not CRC-checked: it counts, it is never delivered), else
 * the whole record; undefined when the slot no longer holds `id` or the read failed.
 */
export async function readHead(
  deps: ReadDeps,
  id: string,
  slot: number,
): Promise<{ publishTime: number; header: MessageHeader } | undefined> {
  const cached = deps.cache.peek(id);
  if (cached) return cached;
  const index = deps.state.index;
  if (!index.holds(slot, id) || !index.isVisible(slot)) return undefined;
  const segment = deps.segment(index.seg[slot]!);
  if (!segment) return undefined;
  const length = index.length[slot]!;
  const prefix = Buffer.allocUnsafe(Math.min(length, HEAD_BYTES));
  try {
    const got = await readFully(segment.file, prefix, index.offset[slot]!);
    const head = decodeHead(prefix.subarray(0, got));
    if (head || got === length) return head;
    return await readImmutable(deps, id, slot);
  } catch {
    return undefined; // compaction moved it meanwhile, or it finished: the next refresh sees it again
  }
}
