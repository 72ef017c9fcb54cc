// groupBacklog() of the file store (doc/console.md "Per-group backlog"). The index holds each
// message's topic, flags and succGroups but not its type, expiry or publish time (no per-message
// memory is added for them): one walk of the index lists the committed, visible, not dead-lettered
// messages, then the headers of up to READ_BUDGET of them are read from disk (the first KiB of each
// record). Over the budget, a random sample is read (each message with probability budget / N: an
// evenly spaced one would alias with a producer that alternates types) and each message read
// stands for the messages of its (topic, succGroups) that were not: estimates, flagged so.
import type { GroupBacklog, GroupBacklogQuery } from '../contract';
import { GroupBacklogTally } from '../group-backlog-tally';
import { type ReadDeps, readHead } from './message-reader';

/** headers read per call at most: ~0.1-0.3 s of reads (doc/console.md "Per-group backlog") */
export const READ_BUDGET = 10_000;
/** reads in flight at once: two of libuv's four threads, the others stay free for the store's writes and fsyncs */
const PARALLEL_READS = 2;

interface Candidate {
  slot: number;
  id: string;
  /** index of its (topic, groupPair) in `counts` */
  key: number;
  succGroups: readonly string[];
}

/** slots walked between two yields to the event loop: at 10^6 the loop then waited ≤ 13 ms, 23 ms with 100,000 (doc/console.md) */
const WALK_CHUNK = 25_000;

async function walk(slotCount: number, visit: (slot: number) => void): Promise<void> {
  for (let from = 0; from < slotCount; from += WALK_CHUNK) {
    if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const to = Math.min(slotCount, from + WALK_CHUNK);
    for (let slot = from; slot < to; slot++) visit(slot);
  }
}

export async function fileGroupBacklog(
  deps: ReadDeps,
  query: GroupBacklogQuery,
  budget = READ_BUDGET,
): Promise<Record<string, GroupBacklog>> {
  const index = deps.state.index;
  const keyNumber = (slot: number) => index.groupPair.get(slot) * 0x100000000 + index.topic.get(slot);
  const isCandidate = (slot: number) => index.isVisible(slot) && index.isCommitted(slot) && !index.isDead(slot);
  // pass 1: how many candidates per (topic, groupPair), with no string made
  const keyOf = new Map<number, number>();
  const counts: number[] = [];
  let total = 0;
  await walk(index.slotCount, (slot) => {
    if (!isCandidate(slot)) return;
    const k = keyNumber(slot);
    let key = keyOf.get(k);
    if (key === undefined) keyOf.set(k, (key = counts.push(0) - 1));
    counts[key]!++;
    total++;
  });
  // pass 2: the candidates to read (all of them within the budget). Messages that came or went
  // between the passes are missed or skipped: a count taken while the store runs.
  const sampling = total > budget;
  const p = sampling ? budget / total : 1;
  const sample: Candidate[] = [];
  await walk(index.slotCount, (slot) => {
    if (!isCandidate(slot) || (sampling && Math.random() >= p)) return;
    const key = keyOf.get(keyNumber(slot));
    if (key !== undefined) sample.push({ slot, id: index.idOf(slot), key, succGroups: index.succGroupsOf(slot) });
  });
  const heads = new Array<Awaited<ReturnType<typeof readHead>>>(sample.length);
  let next = 0;
  const reader = async () => {
    while (next < sample.length) {
      const i = next++;
      heads[i] = await readHead(deps, sample[i]!.id, sample[i]!.slot);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, sample.length) }, reader));
  // each message read stands for count / (messages of its key read) messages
  const readPerKey = new Array<number>(counts.length).fill(0);
  heads.forEach((head, i) => head && readPerKey[sample[i]!.key]!++);
  const tally = new GroupBacklogTally(query, sampling);
  heads.forEach((head, i) => {
    if (!head || tally.isExpired(head.header.expiredTime)) return;
    const key = sample[i]!.key;
    const weight = sampling ? counts[key]! / readPerKey[key]! : 1;
    tally.add(head.header.topic, head.header.messageType, sample[i]!.succGroups, head.publishTime, weight);
  });
  return tally.result();
}
