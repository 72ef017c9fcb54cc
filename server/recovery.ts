// The recovery manager (doc/architecture.md §6): re-drives stored, committed, unfinished messages whose
// nextDeliverTime is due: at start (after a restart), every `intervalMs`, and when bindings change
// (messages kept because no group was bound). Pages by cursor (nextDeliverTime, messageId), never
// an offset. A retry due before the next scan goes on the retry heap at its exact time, so a
// schedule interrupted by a restart resumes where it stood; a parked message (no failed group)
// waits for the scan that finds it due.
//
// Rate: paging pauses while more than `maxInFlight` deliveries (new traffic included) are in
// flight, so a backlog of 10^5 stored messages is fed as fast as consumers ack it and new
// publishes always find room. The store writes a page causes without a delivery (park, finish,
// dead letter: deliver-prepare hands them back) are awaited before the next page is read, so a walk
// of 10^6 messages for an offline group has one page of them outstanding at most (reads
// outpace writes with fsync=always or a slow disk, and the queued writes hold memory). Dead-letter
// re-drive lives here too: it is a re-drive.
import type { InFlightSet } from '../handler/delivery-in-flight';
import type { DeliveryRequest } from '../handler/events';
import { nextTxState } from '../handler/tx-states';
import { deliverAtOf } from '../protocol/deliver-at';
import type { DeadLetterQuery, DueCursor, MessageStore, StoredMessage } from '../store/contract';
import { cursorOf } from '../store/due-order';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';

export interface RecoveryDeps {
  store: MessageStore;
  log: Logger;
  clock: Clock;
  inFlight: InFlightSet;
  /** on the retry heap already */
  isScheduled: (messageId: string) => boolean;
  /** put on the retry heap; false when the heap is full (a later scan takes it) */
  schedule: (messageId: string, dueMs: number) => boolean;
  /** deliver-prepare: a promise when it settled the message itself with a store write (resolves once written) */
  toDeliverPrepare: (request: DeliveryRequest) => unknown;
  /** an attempt now would reach a group; false: deliver-prepare would only park it again */
  canReceive: (message: StoredMessage) => boolean;
  pageSize: number;
  /** pause paging while more deliveries than this are in flight */
  maxInFlight: number;
  intervalMs: number;
}

export interface ScanMode {
  /** also look at messages due within this many seconds (they go on the retry heap) */
  lookaheadSec: number;
  /** bindings changed: a parked message (no failed group, doc/architecture.md §6) due within lookahead goes now */
  redriveParked: boolean;
  /** only messages of these topics (a group's first consumer: its topics); absent: every topic */
  topics?: readonly string[];
}

/** One scan that does what both would. */
function mergeModes(a: ScanMode, b: ScanMode): ScanMode {
  const merged: ScanMode = {
    lookaheadSec: Math.max(a.lookaheadSec, b.lookaheadSec),
    redriveParked: a.redriveParked || b.redriveParked,
  };
  if (a.topics && b.topics) merged.topics = [...new Set([...a.topics, ...b.topics])];
  return merged;
}

export interface ScanResult {
  redriven: number;
  scheduled: number;
}

const WAIT_MS = 20;
/**
 * A scan nobody waits for (at start, periodic: a walk of 10^6 parked messages after a downtime
 * longer than their rechecks) runs at most this share of the time, in pages of at most
 * BACKGROUND_PAGE, yielding every YIELD_EVERY messages, so new traffic keeps its latency
 * (doc/delivery.md "Recovery manager"). A scan a consumer or a binding change starts is not paced.
 */
const BACKGROUND_DUTY = 0.5;
const BACKGROUND_PAGE = 200;
const YIELD_EVERY = 50;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RecoveryManager {
  private timer: TimerHandle | null = null;
  private running: Promise<ScanResult> | null = null;
  private again: ScanMode | null = null;
  private stopped = false;
  /** ends a background scan's pause at once (stop) */
  private endPause: (() => void) | null = null;
  /** how long the last periodic scan took: the next one looks that much further ahead */
  private lastScanMs = 0;

  constructor(private readonly deps: RecoveryDeps) {}

  start(): void {
    void this.scan(this.periodic());
  }

  /** a scan is running (or queued right behind the running one) */
  get scanning(): boolean {
    return this.running !== null;
  }

  // Beyond the interval by a second (due times are whole seconds: a scan starting late in a second
  // must reach what falls due before the next starts) and by the last scan's duration (the next
  // scan starts that much later). What falls due meanwhile goes on the retry heap at its exact
  // time, so a scheduled message (doc/delayed-delivery.md) is not late by a slow scan.
  private periodic(): ScanMode {
    return {
      lookaheadSec: Math.ceil(this.deps.intervalMs / 1000) + 1 + Math.ceil(this.lastScanMs / 1000),
      redriveParked: false,
    };
  }

  /** Scan now (or right after the running scan). */
  scan(mode: ScanMode): Promise<ScanResult> {
    if (this.running) {
      const prev = this.again;
      this.again = prev ? mergeModes(prev, mode) : mode;
      return this.running;
    }
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    const startedMs = this.deps.clock.nowMs();
    this.running = this.run(mode).finally(() => {
      this.running = null;
      if (!mode.redriveParked) this.lastScanMs = this.deps.clock.nowMs() - startedMs;
      if (this.stopped) return;
      const next = this.again;
      this.again = null;
      if (next) void this.scan(next);
      else this.timer = this.deps.clock.setTimeout(() => void this.scan(this.periodic()), this.deps.intervalMs);
    });
    return this.running;
  }

  private async run(mode: ScanMode): Promise<ScanResult> {
    const { log, clock } = this.deps;
    const nowSec = Math.floor(clock.nowMs() / 1000);
    const dueBy = nowSec + mode.lookaheadSec;
    const background = !mode.redriveParked;
    const pageSize = background ? Math.min(this.deps.pageSize, BACKGROUND_PAGE) : this.deps.pageSize;
    let after: DueCursor | undefined;
    const result: ScanResult = { redriven: 0, scheduled: 0 };
    try {
      for (;;) {
        await this.waitForRoom();
        if (this.stopped) break;
        const pageStartedMs = clock.nowMs();
        const page = await this.page(dueBy, after, nowSec, mode, result, pageSize, background);
        // the page's messages are out of reach here: only the writes they caused are waited for
        if (page.writes.length > 0) await Promise.allSettled(page.writes);
        if (page.size < pageSize) break;
        after = page.last;
        if (background) await this.pause(((clock.nowMs() - pageStartedMs) * (1 - BACKGROUND_DUTY)) / BACKGROUND_DUTY);
      }
    } catch (error) {
      log.error({ err: error }, 'recovery scan failed; will retry');
    }
    if (result.redriven > 0 || result.scheduled > 0) log.info(result, 'recovery: re-drove due messages');
    return result;
  }

  /** Reads one page and takes its messages; returns its size, its cursor and the store writes it caused. */
  private async page(
    dueBy: number,
    after: DueCursor | undefined,
    nowSec: number,
    mode: ScanMode,
    result: ScanResult,
    pageSize: number,
    background: boolean,
  ) {
    const { store, inFlight } = this.deps;
    // Ids released while the page is read, or while it is taken with yields in between, may be
    // stale in it: skip them (delivery-in-flight.ts).
    const released = inFlight.openWatch();
    const writes: Promise<unknown>[] = [];
    let page: StoredMessage[];
    try {
      page = await store.pageDue({ dueBy, after, limit: pageSize, committed: true, topics: mode.topics });
      for (const [i, message] of page.entries()) {
        if (background && i > 0 && i % YIELD_EVERY === 0) await yieldToIo();
        const write = this.take(message, nowSec, dueBy, mode, released, result);
        if (write instanceof Promise) writes.push(write);
      }
    } finally {
      inFlight.closeWatch(released);
    }
    const last = page.length > 0 ? cursorOf(page[page.length - 1]!) : after;
    return { size: page.length, last, writes };
  }

  /** a background scan's rest between pages (none on a virtual clock that did not move); stop() ends it */
  private async pause(ms: number): Promise<void> {
    if (ms < 1 || this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = this.deps.clock.setTimeout(
        () => {
          this.endPause = null;
          resolve();
        },
        Math.min(ms, 1000),
      );
      this.endPause = () => {
        this.deps.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  private take(
    message: StoredMessage,
    nowSec: number,
    dueBy: number,
    mode: ScanMode,
    released: Set<string>,
    result: ScanResult,
  ): unknown {
    const id = message.header.messageId;
    const { inFlight } = this.deps;
    if (inFlight.has(id) || inFlight.isStoring(id) || released.has(id) || this.deps.isScheduled(id)) return undefined;
    // A scheduled message not yet at its time is not parked, however empty its failGroups
    // (doc/delayed-delivery.md): stored with its time, it goes on the heap at its exact millisecond;
    // else deliver-prepare defers it, which writes its time (a commit left the check-back's).
    const deliverAtMs = message.header.properties.length > 0 ? deliverAtOf(message.header) : 0;
    if (deliverAtMs > this.deps.clock.nowMs()) {
      if (message.nextDeliverTime >= Math.ceil(deliverAtMs / 1000)) {
        // only what falls due before the next periodic scan: a parked-message scan reads an hour ahead
        const heapBy = Math.min(dueBy, nowSec + this.periodic().lookaheadSec);
        if (message.nextDeliverTime <= heapBy && this.deps.schedule(id, deliverAtMs)) result.scheduled++;
        return undefined;
      }
      return this.deps.toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
    }
    const parked = message.failGroups.length === 0;
    if (message.nextDeliverTime > nowSec) {
      // A parked message's recheck (doc/architecture.md §6) needs no exact time: the scan that finds it due takes
      // it, at most intervalMs late. On the retry heap, 10^5 of them came due in the same second and
      // were all read back from the store at once; the heap is kept for real retries.
      if (!parked) {
        if (this.deps.schedule(id, message.nextDeliverTime * 1000)) result.scheduled++;
        return undefined;
      }
      // Taken ahead of its recheck only when a group can receive it now. A message this pass parks
      // again gets a later due time that can land ahead of the cursor: met again, it is passed by
      // here instead of being re-driven (and re-parked) over and over.
      if (!mode.redriveParked || !this.deps.canReceive(message)) return undefined;
    }
    result.redriven++;
    return this.deps.toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
  }

  private async waitForRoom(): Promise<void> {
    const { inFlight, maxInFlight, clock } = this.deps;
    while (!this.stopped && inFlight.size > maxInFlight) await new Promise<void>((r) => clock.setTimeout(r, WAIT_MS));
  }

  /**
   * doc/architecture.md §6, §10: moves a dead letter back. A committed one is delivered at once; a prepared one
   * (the tx final action rolled it back) is prepared again with its check-backs from the start
   * (the store resets checkCount, due now) and is delivered only once its group commits it.
   * Resolves false when it is not a dead letter.
   */
  async redriveOne(messageId: string): Promise<boolean> {
    const { store, clock, log } = this.deps;
    const message = await store.redrive(messageId, Math.floor(clock.nowMs() / 1000));
    if (!message) return false;
    if (!message.header.commit) {
      nextTxState('deadLettered', 'redrive');
      log.info(
        { messageId, groupId: message.header.groupId, topic: message.header.topic },
        'prepared dead letter re-driven: checked back again, delivered only after a commit',
      );
      return true;
    }
    this.deps.toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
    return true;
  }

  /** Re-drives these dead letters (see redriveOne); resolves with how many were dead letters. */
  async redrive(messageIds: readonly string[]): Promise<number> {
    let count = 0;
    for (const id of messageIds) if (await this.redriveOne(id)) count++;
    if (count > 0) this.deps.log.info({ count }, 'dead letters re-driven');
    return count;
  }

  /** Re-drives every dead letter of a topic and/or group (not acked by that group). */
  async redriveWhere(filter: Pick<DeadLetterQuery, 'topic' | 'groupId'>): Promise<number> {
    let count = 0;
    let afterId: string | undefined;
    for (;;) {
      await this.waitForRoom();
      const page = await this.deps.store.listDeadLetters({ ...filter, afterId, limit: this.deps.pageSize });
      count += await this.redrive(page.map((letter) => letter.message.header.messageId));
      if (page.length < this.deps.pageSize) return count;
      afterId = page[page.length - 1].message.header.messageId;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endPause?.();
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
