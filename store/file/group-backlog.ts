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
/** reads in flight at once */
const PARALLEL_READS = 32;

interface Candidate {
  slot: number;
  id: string;
  /** index of its (topic, groupPair) in `keys` */
  key: number;
}

export async function fileGroupBacklog(
  deps: ReadDeps,
  query: GroupBacklogQuery,
  budget = READ_BUDGET,
): Promise<Record<string, GroupBacklog>> {
  const index = deps.state.index;
  // pass 1: how many candidates per (topic, groupPair), with no string made
  const keyOf = new Map<number, number>();
  const counts: number[] = [];
  const pairOfKey: number[] = [];
  let total = 0;
  const keyNumber = (slot: number) => index.groupPair[slot]! * 0x100000000 + index.topic[slot]!;
  const isCandidate = (slot: number) => index.isVisible(slot) && index.isCommitted(slot) && !index.isDead(slot);
  for (const slot of index.slots()) {
    if (!isCandidate(slot)) continue;
    const k = keyNumber(slot);
    let key = keyOf.get(k);
    if (key === undefined) {
      keyOf.set(k, (key = counts.length));
      counts.push(0);
      pairOfKey.push(index.groupPair[slot]!);
    }
    counts[key]!++;
    total++;
  }
  // pass 2: the candidates to read (all of them within the budget); no await since pass 1
  const sampling = total > budget;
  const p = sampling ? budget / total : 1;
  const sample: Candidate[] = [];
  for (const slot of index.slots()) {
    if (!isCandidate(slot) || (sampling && Math.random() >= p)) continue;
    const key = keyOf.get(keyNumber(slot));
    if (key === undefined) continue; // cannot happen without an await between the passes
    sample.push({ slot, id: index.idOf(slot), key });
  }
  const pairs = index.groupPairs();
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
    const succGroups = pairs[pairOfKey[key]!]![0];
    tally.add(head.header.topic, head.header.messageType, succGroups, head.publishTime, weight);
  });
  return tally.result();
}
