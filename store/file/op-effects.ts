// What each op does to memory (doc/architecture.md §8): formed in queue order as its batch is built (the state a
// record carries is the state in memory right then), completed once the batch is durable, undone if
// it failed. A save stays invisible (PENDING) and a delete stays hidden (DELETING) until completed.
import { DuplicateMessageError, type StoreError } from '../errors';
import type { BodyCache } from './body-cache';
import { SlotFlag } from './message-index';
import { appliesTo, nextState, type StoreOp } from './ops';
import {
  encodeDeleteRecord,
  encodeMessageRecord,
  encodeNewMessageRecord,
  encodeStateRecord,
  type RecordWriter,
  StateFlag,
} from './record-codec';
import type { StoreState } from './store-state';

export class OpEffects {
  constructor(
    private readonly state: StoreState,
    private readonly cache: BodyCache,
    /** ids of saves queued but not completed: duplicates are refused before they are written */
    private readonly pendingSaves: Set<string>,
  ) {}

  /** Applies `op` to memory and appends its record, if it has one, to `out` (at `offset` of `segment`). */
  form(op: StoreOp, segment: number, offset: number, out: RecordWriter): void {
    const length = this.formRecord(op, out);
    if (length > 0) {
      op.segment = segment;
      op.offset = offset;
      op.length = length;
    }
  }

  private formRecord(op: StoreOp, out: RecordWriter): number {
    const index = this.state.index;
    if (op.kind === 'save') {
      if (index.slotOf(op.id) !== undefined) return 0; // rejected as a duplicate in complete()
      op.slot = index.allocate(op.id, op.topic);
      index.setState(op.slot, op.state);
      index.flags[op.slot] |= SlotFlag.PENDING;
      op.applied = true;
      return encodeNewMessageRecord(out, op.id, op.topic, op.state, op.message, op.encodedHeader);
    }
    const slot = index.slotOf(op.id);
    if (slot === undefined || !index.isVisible(slot)) return 0;
    op.slot = slot;
    switch (op.kind) {
      case 'state': {
        const { change } = op;
        if (!appliesTo(change, index.isDead(slot))) return 0;
        if (change.change === 'restate' && index.stateSeg[slot] !== change.fromSegment) return 0;
        op.previous = index.stateOf(slot);
        const next = nextState(op.previous, change);
        this.state.changeState(slot, next);
        op.applied = true;
        return encodeStateRecord(out, op.id, next);
      }
      case 'delete':
        if (index.isDead(slot)) return 0; // a dead letter leaves only by redrive (doc/architecture.md §6)
        this.state.hide(slot);
        index.flags[slot] |= SlotFlag.DELETING;
        op.applied = true;
        return encodeDeleteRecord(out, op.id);
      case 'copy':
        if (index.seg[slot] !== op.fromSegment || index.offset[slot] !== op.fromOffset) return 0;
        op.applied = true;
        return encodeMessageRecord(out, op.id, index.topics[index.topic.get(slot)]!, index.stateOf(slot), op.immutable);
    }
  }

  complete(op: StoreOp): void {
    if (!op.applied) {
      if (op.kind === 'save') {
        this.pendingSaves.delete(op.id);
        return op.reject(new DuplicateMessageError(op.id));
      }
      return op.resolve(false);
    }
    const state = this.state;
    switch (op.kind) {
      case 'save':
        state.placeMessage(op.slot, op.segment, op.offset, op.length, false);
        state.index.flags[op.slot] &= ~SlotFlag.PENDING;
        state.show(op.slot);
        this.pendingSaves.delete(op.id);
        // committed messages go to delivery with the object in hand; prepared ones are read back at commit
        if (!(op.state.flags & StateFlag.COMMITTED)) this.cache.put(op.id, op.message);
        break;
      case 'state':
        if (op.length > 0) state.placeState(op.slot, op.segment, op.length); // 0: kept in memory only
        break;
      case 'delete':
        this.cache.delete(op.id);
        state.finish(op.slot, op.segment);
        break;
      case 'copy':
        state.placeMessage(op.slot, op.segment, op.offset, op.length, true);
        break;
    }
    op.resolve(true);
  }

  undo(op: StoreOp, error: StoreError): void {
    const index = this.state.index;
    if (op.applied) {
      switch (op.kind) {
        case 'save':
          index.release(op.slot);
          break;
        case 'state':
          this.state.changeState(op.slot, op.previous!);
          break;
        case 'delete':
          index.flags[op.slot] &= ~SlotFlag.DELETING;
          this.state.show(op.slot);
          break;
        case 'copy':
          break;
      }
    }
    if (op.kind === 'save') this.pendingSaves.delete(op.id);
    op.reject(error);
  }
}
