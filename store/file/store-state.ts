// The file store's memory: the message index, the due order of committed and prepared messages,
// counts per topic, and the segment ledger. Replay (recovery) and the running store change it through
// the same accounting, so a reopened store reaches exactly the state it had (doc/architecture.md §8).
import { DueList } from './due-list';
import { MessageIndex, SlotFlag } from './message-index';
import type { MessageState } from './record-codec';
import { SegmentLedger } from './segment-ledger';
import { ScheduledCount } from '../scheduled-count';

export class StoreState {
  readonly index = new MessageIndex();
  readonly ledger = new SegmentLedger();
  readonly committedDue = new DueList(() => this.dueKeys());
  readonly preparedDue = new DueList(() => this.dueKeys());
  private readonly topicCounts: number[] = [];
  /** visible, not dead-lettered messages whose kiteq.deliverAt is ahead (doc/delayed-delivery.md "Counting") */
  readonly scheduled = new ScheduledCount();
  /** replay skips the due order and counts; finishReplay() builds them once */
  private replaying = true;

  private dueKeys() {
    return { nextDeliverTime: this.index.nextDeliverTime, ids: this.index.ids };
  }

  /** a visible, not dead-lettered message joins the due order and the topic counts */
  show(slot: number): void {
    if (this.replaying || this.index.isDead(slot)) return;
    (this.index.isCommitted(slot) ? this.committedDue : this.preparedDue).insert(slot);
    const topic = this.index.topic.get(slot);
    this.topicCounts[topic] = (this.topicCounts[topic] ?? 0) + 1;
    this.scheduled.add(this.index.deliverAtSec.get(slot));
  }

  hide(slot: number): void {
    if (this.replaying || this.index.isDead(slot)) return;
    (this.index.isCommitted(slot) ? this.committedDue : this.preparedDue).remove(slot);
    this.topicCounts[this.index.topic.get(slot)]!--;
    this.scheduled.remove(this.index.deliverAtSec.get(slot));
  }

  changeState(slot: number, state: MessageState): void {
    this.hide(slot);
    this.index.setState(slot, state);
    this.show(slot);
  }

  countsByTopic(): Record<string, number> {
    const out: Record<string, number> = {};
    this.topicCounts.forEach((count, topic) => {
      if (count > 0) out[this.index.topics[topic]!] = count;
    });
    return out;
  }

  // --- accounting, shared by replay and the running store ---

  /** a MESSAGE record of `slot` now lives at (segment, offset); an older copy, if any, is hidden by it */
  placeMessage(slot: number, segment: number, offset: number, length: number, replacing: boolean): void {
    const index = this.index;
    if (replacing) {
      this.ledger.unref(index.seg[slot]!, index.length[slot]!);
      this.ledger.hide(index.seg[slot]!, segment);
      this.dropStateRecord(slot);
    }
    index.seg[slot] = segment;
    index.offset[slot] = offset;
    index.length[slot] = length;
    this.ledger.ref(segment, length);
  }

  /** the latest STATE record of `slot` is now in `segment` */
  placeState(slot: number, segment: number, length: number): void {
    this.dropStateRecord(slot);
    this.index.stateSeg[slot] = segment;
    this.index.stateLength[slot] = length;
    this.ledger.ref(segment, length);
  }

  /** a tombstone in `segment` finished `slot`: it must outlive the segment of the message record */
  finish(slot: number, segment: number): void {
    const index = this.index;
    this.ledger.unref(index.seg[slot]!, index.length[slot]!);
    this.ledger.hide(index.seg[slot]!, segment);
    this.dropStateRecord(slot);
    index.release(slot);
  }

  private dropStateRecord(slot: number): void {
    const stateSeg = this.index.stateSeg[slot]!;
    if (stateSeg < 0) return;
    this.ledger.unref(stateSeg, this.index.stateLength[slot]!);
    this.index.stateSeg[slot] = -1;
    this.index.stateLength[slot] = 0;
  }

  // --- replay ---

  /** `slot`: where replay put this message before (a compacted copy follows its original), or undefined: new */
  replayMessage(
    slot: number | undefined,
    id: string,
    topic: string,
    state: MessageState,
    segment: number,
    offset: number,
    length: number,
  ): void {
    const replacing = slot !== undefined;
    if (slot === undefined) slot = this.index.allocate(id, topic);
    this.placeMessage(slot, segment, offset, length, replacing);
    this.index.setState(slot, state);
  }

  /** only for a message replay has met (one finished before has had its tombstone: nothing to revive) */
  replayState(slot: number, state: MessageState, segment: number, length: number): void {
    this.placeState(slot, segment, length);
    this.index.setState(slot, state);
  }

  replayDelete(slot: number, segment: number): void {
    this.finish(slot, segment);
  }

  /**
   * Builds the due order (one sort) and the counts after replay; `sorted`: the due order as an
   * index snapshot kept it (no sort).
   */
  finishReplay(sorted?: { committed: Uint32Array; prepared: Uint32Array }): void {
    let committedCount = 0;
    let preparedCount = 0;
    for (const slot of this.index.slots()) {
      const flags = this.index.flags[slot]!;
      if (flags & SlotFlag.DEAD) continue;
      if (flags & SlotFlag.COMMITTED) committedCount++;
      else preparedCount++;
      const topic = this.index.topic.get(slot);
      this.topicCounts[topic] = (this.topicCounts[topic] ?? 0) + 1;
      this.scheduled.add(this.index.deliverAtSec.get(slot));
    }
    if (sorted && sorted.committed.length === committedCount && sorted.prepared.length === preparedCount) {
      this.committedDue.loadSorted(sorted.committed);
      this.preparedDue.loadSorted(sorted.prepared);
    } else {
      // arrays of their final size: pushing 10^7 slots leaves ~4x their size of garbage (doc/file-store.md "Memory")
      const committed = new Array<number>(committedCount);
      const prepared = new Array<number>(preparedCount);
      let c = 0;
      let p = 0;
      const all = this.index.flags;
      for (let slot = 0; slot < this.index.slotCount; slot++) {
        const flags = all[slot]!;
        if (!(flags & SlotFlag.USED) || flags & SlotFlag.DEAD) continue;
        if (flags & SlotFlag.COMMITTED) committed[c++] = slot;
        else prepared[p++] = slot;
      }
      this.committedDue.load(committed);
      this.preparedDue.load(prepared);
    }
    this.replaying = false;
  }
}
