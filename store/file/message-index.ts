// The in-memory index of the file store (doc/architecture.md §8): only what delivery needs, in parallel typed
// arrays indexed by a slot number, most numbers in narrow columns (narrow-column.ts), the ids packed as
// bytes (id-table.ts), so a pending message costs ~55 bytes (doc/file-store.md "Memory"). Bodies stay
// on disk (and in the bounded body cache).
import { IdTable, type SavedIds } from './id-table';
import { NarrowColumn, type Width } from './narrow-column';
import type { MessageState } from './record-codec';
import { StateFlag } from './record-codec';

/** slot flags beyond the persisted StateFlag bits */
export const SlotFlag = Object.freeze({
  COMMITTED: StateFlag.COMMITTED,
  DEAD: StateFlag.DEAD,
  USED: 4,
  /** its save is being written: not visible yet */
  PENDING: 8,
  /** its tombstone is being written: not visible any more */
  DELETING: 16,
});

const PERSISTED = StateFlag.COMMITTED | StateFlag.DEAD;

/** the per-slot typed arrays of fixed width (an index snapshot writes each as one block) */
export const SLOT_COLUMNS = ['flags', 'seg', 'offset', 'length', 'stateSeg', 'stateLength'] as const;
export type SlotColumn = (typeof SLOT_COLUMNS)[number];
/** the per-slot numbers kept as narrow as their values allow (narrow-column.ts), the rest of a slot's numbers */
export const NARROW_COLUMNS = [
  'nextDeliverTime',
  'deliverCount',
  'checkCount',
  'topic',
  'groupPair',
  'deliverAtSec',
] as const;
export type NarrowColumnName = (typeof NARROW_COLUMNS)[number];
export type FixedColumn = Uint8Array | Uint32Array | Int32Array;
const EMPTY: string[] = [];

/** A slot's state as a fresh object. Made by a constructor: a pending state op keeps one as `previous` (ops.ts). */
class SlotState implements MessageState {
  constructor(
    public flags: number,
    public deliverCount: number,
    public checkCount: number,
    public nextDeliverTime: number,
    public succGroups: string[],
    public failGroups: string[],
    public deadTime: number,
    public deadReason: string,
    public deliverAtSec: number,
  ) {}
}

export class MessageIndex {
  private capacity = 0;
  /** slots below this have been used */
  private highWater = 0;
  /** the id of each used slot, and the slot of each id */
  readonly ids = new IdTable();
  flags = new Uint8Array(0);
  /** segment and offset of the MESSAGE record, and its framed length */
  seg = new Uint32Array(0);
  offset = new Uint32Array(0);
  length = new Uint32Array(0);
  /** segment of the latest STATE record (-1: the MESSAGE record holds the state), and its length */
  stateSeg = new Int32Array(0);
  stateLength = new Uint32Array(0);
  readonly nextDeliverTime = new NarrowColumn();
  readonly deliverCount = new NarrowColumn();
  readonly checkCount = new NarrowColumn();
  readonly topic = new NarrowColumn();
  /** MessageState.deliverAtSec: 0, or the second its kiteq.deliverAt makes it due (store-state.ts counts them) */
  readonly deliverAtSec = new NarrowColumn();
  /**
   * (succGroups, failGroups) as an id into `pairs`, 0 = none. A million messages that failed for
   * the same group share one pair: a number per slot instead of a Map entry and three arrays.
   */
  readonly groupPair = new NarrowColumn();
  private readonly pairs: Array<readonly [readonly string[], readonly string[]]> = [[EMPTY, EMPTY]];
  private readonly pairIds = new Map<string, number>();
  /** sparse: only dead letters */
  private readonly dead = new Map<number, { deadTime: number; reason: string }>();
  private readonly free: number[] = [];
  private readonly topicIds = new Map<string, number>();
  readonly topics: string[] = [];
  private readonly names = new Map<string, string>();

  get size(): number {
    return this.ids.size;
  }

  /** slots below this may be used */
  get slotCount(): number {
    return this.highWater;
  }

  slotOf(id: string): number | undefined {
    return this.ids.find(id);
  }

  idOf(slot: number): string {
    return this.ids.idOf(slot);
  }

  /** the slot of the id whose bytes are buf[start, end) (replay: no string made), or NOT_ASCII (id-table.ts) */
  slotOfBytes(buf: Uint8Array, start: number, end: number): number | undefined {
    return this.ids.findBytes(buf, start, end);
  }

  /** does `slot` still hold the message `id` (it may have been finished and reused)? */
  holds(slot: number, id: string): boolean {
    return this.ids.is(slot, id);
  }

  /** a slot that get(), pageDue() and state changes may see */
  isVisible(slot: number): boolean {
    const f = this.flags[slot]!;
    return (f & SlotFlag.USED) !== 0 && (f & (SlotFlag.PENDING | SlotFlag.DELETING)) === 0;
  }

  isDead(slot: number): boolean {
    return (this.flags[slot]! & SlotFlag.DEAD) !== 0;
  }

  isCommitted(slot: number): boolean {
    return (this.flags[slot]! & SlotFlag.COMMITTED) !== 0;
  }

  /** one shared string per distinct group name (thousands of messages name the same few groups) */
  intern = (name: string): string => {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    this.names.set(name, name);
    return name;
  };

  topicId(topic: string): number {
    let id = this.topicIds.get(topic);
    if (id === undefined) {
      id = this.topics.length;
      this.topics.push(topic);
      this.topicIds.set(topic, id);
    }
    return id;
  }

  allocate(id: string, topic: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.highWater++;
      if (slot >= this.capacity) this.grow();
    }
    this.ids.set(slot, id);
    this.topic.set(slot, this.topicId(topic));
    this.flags[slot] = SlotFlag.USED;
    this.stateSeg[slot] = -1;
    this.stateLength[slot] = 0;
    return slot;
  }

  release(slot: number): void {
    this.ids.delete(slot);
    this.flags[slot] = 0;
    this.groupPair.set(slot, 0);
    this.dead.delete(slot);
    this.free.push(slot);
  }

  setState(slot: number, state: MessageState): void {
    this.flags[slot] = (this.flags[slot]! & ~PERSISTED) | (state.flags & PERSISTED);
    this.deliverCount.set(slot, state.deliverCount);
    this.checkCount.set(slot, state.checkCount);
    this.nextDeliverTime.set(slot, state.nextDeliverTime);
    this.deliverAtSec.set(slot, state.deliverAtSec);
    this.groupPair.set(
      slot,
      state.succGroups.length || state.failGroups.length ? this.pairId(state.succGroups, state.failGroups) : 0,
    );
    if (state.flags & StateFlag.DEAD) this.dead.set(slot, { deadTime: state.deadTime, reason: state.deadReason });
    else if (this.dead.size > 0) this.dead.delete(slot);
  }

  stateOf(slot: number): MessageState {
    const groups = this.pairs[this.groupPair.get(slot)]!;
    const dead = this.dead.get(slot);
    return new SlotState(
      this.flags[slot]! & PERSISTED,
      this.deliverCount.get(slot),
      this.checkCount.get(slot),
      this.nextDeliverTime.get(slot),
      [...groups[0]],
      [...groups[1]],
      dead?.deadTime ?? 0,
      dead?.reason ?? '',
      this.deliverAtSec.get(slot),
    );
  }

  succGroupsOf(slot: number): readonly string[] {
    return this.pairs[this.groupPair.get(slot)]![0];
  }

  /** The id of this (succGroups, failGroups) pair, interned (the key joins names with control characters). */
  private pairId(succ: readonly string[], fail: readonly string[]): number {
    const key = `${succ.join('\u0000')}\u0001${fail.join('\u0000')}`;
    let id = this.pairIds.get(key);
    if (id === undefined) {
      id = this.pairs.length;
      this.pairs.push([succ.map(this.intern), fail.map(this.intern)]);
      this.pairIds.set(key, id);
    }
    return id;
  }

  deadSlots(): IterableIterator<number> {
    return this.dead.keys();
  }

  /** the interned (succGroups, failGroups) pairs; `groupPair` holds indexes into it (0: none) */
  groupPairs(): ReadonlyArray<readonly [readonly string[], readonly string[]]> {
    return this.pairs;
  }

  deadOf(slot: number): { deadTime: number; reason: string } | undefined {
    return this.dead.get(slot);
  }

  /** the width of each narrow column now (a snapshot records it) */
  narrowWidths(): Record<NarrowColumnName, Width> {
    const out = {} as Record<NarrowColumnName, Width>;
    for (const name of NARROW_COLUMNS) out[name] = this[name].width;
    return out;
  }

  /**
   * Fills an empty index with slots 0..n-1 (store/file/index-snapshot.ts): `ids` their ids (n of
   * them), `columns` the SLOT_COLUMNS arrays and `narrow` the NARROW_COLUMNS arrays (NarrowColumn.alloc)
   * to adopt (n values, all of the same length ≥ n: the capacity), `pairs` the group pairs
   * `groupPair` points into.
   */
  restore(
    ids: SavedIds,
    columns: Record<SlotColumn, FixedColumn>,
    narrow: Record<NarrowColumnName, { width: Width; values: ReturnType<typeof NarrowColumn.alloc> }>,
    topics: readonly string[],
    pairs: ReadonlyArray<readonly [readonly string[], readonly string[]]>,
    dead: ReadonlyArray<readonly [number, number, string]>,
  ): void {
    if (this.highWater > 0) throw new Error('MessageIndex.restore: the index is not empty');
    const count = ids.count;
    this.capacity = columns.flags.length;
    for (const name of SLOT_COLUMNS) {
      if (columns[name].length !== this.capacity || columns[name].constructor !== this[name].constructor) {
        throw new Error(
          `MessageIndex.restore: column ${name} is not a ${this.capacity}-slot ${this[name].constructor.name}`,
        );
      }
      (this as Record<SlotColumn, unknown>)[name] = columns[name];
    }
    for (const name of NARROW_COLUMNS) this[name].adopt(narrow[name].width, narrow[name].values, this.capacity);
    for (let slot = 0; slot < count; slot++) this.flags[slot]! &= ~(SlotFlag.PENDING | SlotFlag.DELETING);
    this.ids.restore(ids, this.capacity);
    this.highWater = count;
    for (const topic of topics) this.topicId(topic);
    for (let i = 1; i < pairs.length; i++) {
      if (this.pairId(pairs[i]![0], pairs[i]![1]) !== i) throw new Error('MessageIndex.restore: repeated group pair');
    }
    for (const [slot, deadTime, reason] of dead) this.dead.set(slot, { deadTime, reason });
  }

  /** every used slot (visible or not) */
  *slots(): IterableIterator<number> {
    for (let slot = 0; slot < this.highWater; slot++) if (this.flags[slot]! & SlotFlag.USED) yield slot;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.capacity * 2);
    const widen = <T extends FixedColumn>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.seg = widen(this.seg, (n) => new Uint32Array(n));
    this.offset = widen(this.offset, (n) => new Uint32Array(n));
    this.length = widen(this.length, (n) => new Uint32Array(n));
    this.stateSeg = widen(this.stateSeg, (n) => new Int32Array(n));
    this.stateLength = widen(this.stateLength, (n) => new Uint32Array(n));
    for (const name of NARROW_COLUMNS) this[name].grow(capacity);
    this.ids.grow(capacity);
    this.capacity = capacity;
  }
}
