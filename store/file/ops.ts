// What a call asks of the writer (design §8). Each op is formed into a record in queue order, then
// completed (durable) or undone (the batch failed). State changes are pure functions of the previous
// state, so a change always builds on the one queued before it.
import type { DeliveryResult } from '../contract';
import type { ImmutableMessage, MessageState } from './record-codec';
import { StateFlag } from './record-codec';

export type StateChange =
  | { change: 'commit' }
  | { change: 'check'; checkCount: number; nextDeliverTime: number }
  | { change: 'delivery'; result: DeliveryResult }
  | { change: 'dead'; reason: string; deadTime: number }
  | { change: 'redrive'; nextDeliverTime: number }
  /** compaction: write the current state again, into the active segment */
  | { change: 'restate'; fromSegment: number };

interface Waiter {
  resolve: (value: boolean) => void;
  reject: (error: Error) => void;
  /** where forming put the op's record */
  segment: number;
  offset: number;
  length: number;
  slot: number;
  /** forming found the op applies (the message existed in the right state) */
  applied: boolean;
}

export interface SaveOp extends Waiter {
  kind: 'save';
  id: string;
  topic: string;
  state: MessageState;
  record: Buffer;
  message: ImmutableMessage;
}

export interface StateOp extends Waiter {
  kind: 'state';
  id: string;
  change: StateChange;
  previous: MessageState | undefined;
}

export interface DeleteOp extends Waiter {
  kind: 'delete';
  id: string;
}

/** compaction moves a MESSAGE record forward with its current state */
export interface CopyOp extends Waiter {
  kind: 'copy';
  id: string;
  fromSegment: number;
  fromOffset: number;
  immutable: Buffer;
}

export type StoreOp = SaveOp | StateOp | DeleteOp | CopyOp;

export function waiter(): Omit<Waiter, 'resolve' | 'reject'> {
  return { segment: 0, offset: 0, length: 0, slot: -1, applied: false };
}

/** Which messages a change applies to: live ones, except redrive (dead letters) and restate (both). */
export function appliesTo(change: StateChange, dead: boolean): boolean {
  if (change.change === 'redrive') return dead;
  if (change.change === 'restate') return true;
  return !dead;
}

export function nextState(previous: MessageState, change: StateChange): MessageState {
  switch (change.change) {
    case 'commit':
      return { ...previous, flags: previous.flags | StateFlag.COMMITTED };
    case 'check':
      return { ...previous, checkCount: change.checkCount, nextDeliverTime: change.nextDeliverTime };
    case 'delivery':
      return {
        ...previous,
        succGroups: [...change.result.succGroups],
        failGroups: [...change.result.failGroups],
        deliverCount: change.result.deliverCount,
        nextDeliverTime: change.result.nextDeliverTime,
      };
    case 'dead':
      return { ...previous, flags: previous.flags | StateFlag.DEAD, deadTime: change.deadTime, deadReason: change.reason };
    case 'redrive':
      // contract: deliverCount 0, failGroups kept, due now (the memory store also restarts tx checks)
      return {
        ...previous,
        flags: previous.flags & ~StateFlag.DEAD,
        deliverCount: 0,
        checkCount: 0,
        nextDeliverTime: change.nextDeliverTime,
        deadTime: 0,
        deadReason: '',
      };
    case 'restate':
      return previous;
  }
}
