// What a call asks of the writer (doc/architecture.md §8). Each op is formed into a record in queue order, then
// completed (durable) or undone (the batch failed). State changes are pure functions of the previous
// state, so a change always builds on the one queued before it.
import type { DeliveryResult } from '../contract';
import type { ImmutableMessage, MessageState } from './record-codec';
import { StateFlag } from './record-codec';

export type StateChange =
  | { change: 'commit' }
  | { change: 'check'; checkCount: number; nextDeliverTime: number }
  | DeliveryChange
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
  message: ImmutableMessage;
  /** the header as publish encoded it, reused in the record (StoredMessage.encodedHeader) */
  encodedHeader: Uint8Array | undefined;
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

// The ops of delivery results and deletes are made by constructors, not object literals:
// V8 pretenures a literal's allocation site once most of its objects survive a scavenge, as a
// recovery walk's page of ops waiting for their write does; every op would then be born in the
// old generation and freed only by a full GC. A constructor has no allocation site to pretenure,
// and copying the result drops the caller's objects at once.

/** recordDelivery's change, with its own copy of the caller's result */
export class DeliveryChange {
  readonly change = 'delivery';
  readonly succGroups: string[];
  readonly failGroups: string[];
  readonly deliverCount: number;
  readonly nextDeliverTime: number;
  constructor(result: DeliveryResult) {
    this.succGroups = [...result.succGroups];
    this.failGroups = [...result.failGroups];
    this.deliverCount = result.deliverCount;
    this.nextDeliverTime = result.nextDeliverTime;
  }
}

/** What every queued call carries: its id, its promise's settlers, and where forming put its record. */
abstract class Call {
  segment = 0;
  offset = 0;
  length = 0;
  slot = -1;
  applied = false;
  constructor(
    readonly id: string,
    readonly resolve: (value: boolean) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

export class StateCall extends Call implements StateOp {
  readonly kind = 'state';
  previous: MessageState | undefined = undefined;
  constructor(
    id: string,
    readonly change: StateChange,
    resolve: (value: boolean) => void,
    reject: (error: Error) => void,
  ) {
    super(id, resolve, reject);
  }
}

export class DeleteCall extends Call implements DeleteOp {
  readonly kind = 'delete';
}

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
        succGroups: change.succGroups,
        failGroups: change.failGroups,
        deliverCount: change.deliverCount,
        nextDeliverTime: change.nextDeliverTime,
      };
    case 'dead':
      return {
        ...previous,
        flags: previous.flags | StateFlag.DEAD,
        deadTime: change.deadTime,
        deadReason: change.reason,
      };
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
