// The check-back scheduler (doc/architecture.md §7). A prepared message older than the tx check age is asked
// about with TX_ACK{status unknown, "Server Check", the full stored header} on one connected
// producer of its publishing group; a member that left the previous check unanswered is passed
// over for another. Unknown or no answer → asked again after the back-off (intervalSec), up to
// maxChecks; then the final action (rollback into the dead-letter area with the reason, or
// commit). The check count and the next due time are stored with the message before the check
// goes out, so they survive a restart and the checks resume where they were. Checks are paced
// (maxChecksPerSec, and at most maxOutstandingPerProducer unanswered on one connection) so a
// backlog of prepared messages cannot flood a producer. Every move goes through tx-states.ts.
import { pickConsumer } from '../handler/deliver';
import type { InFlightSet } from '../handler/delivery-in-flight';
import type { SessionPort } from '../handler/session-port';
import type { TxCheckRegistry } from '../handler/tx-check-registry';
import type { TxSerial } from '../handler/tx-serial';
import { nextTxState, type TxState, txStateOf } from '../handler/tx-states';
import { TxStatus } from '../protocol/messages/tx-ack';
import type { DueCursor, MessageStore, StoredMessage } from '../store/contract';
import { cursorOf } from '../store/due-order';
import type { Logger } from './logger';

export type TxFinalAction = 'rollback' | 'commit';

export interface TxCheckerOptions {
  intervalSec: number;
  maxChecks: number;
  finalAction: TxFinalAction;
  maxChecksPerSec: number;
  /** unanswered check-backs allowed on one producer connection at a time */
  maxOutstandingPerProducer: number;
  /** how often to look for due prepared messages (aligned to the store's whole seconds) */
  pollMs: number;
}

export interface TxCheckerDeps {
  store: MessageStore;
  log: Logger;
  nowMs: () => number;
  random: () => number;
  checks: TxCheckRegistry;
  serial: TxSerial;
  /** a final-action commit under way is marked there, like a producer's (InFlightSet.storeStarted) */
  inFlight: InFlightSet;
  /** authenticated connections of a group (its producers, for a publishing group) */
  producersOf: (groupId: string) => readonly SessionPort[];
  /** commit as the final action: deliver it */
  deliverCommitted: (message: StoredMessage) => void;
  onCheck?: (messageId: string, checkCount: number, producer: SessionPort | undefined) => void;
  onFinal?: (messageId: string, action: TxFinalAction, checkCount: number) => void;
}

type CheckResult = 'sent' | 'final' | 'skipped' | 'gone';

export const SERVER_CHECK_FEEDBACK = 'Server Check';

export class TxChecker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: TxCheckerDeps,
    private readonly options: TxCheckerOptions,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Next pass right after the next whole second: due times are whole seconds in the store. */
  private schedule(minDelayMs: number): void {
    if (this.stopped) return;
    const { pollMs } = this.options;
    const delay = Math.max(minDelayMs, pollMs - (this.deps.nowMs() % pollMs) + 5);
    this.timer = setTimeout(this.tick, delay);
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.stopped) return;
    this.running = this.checkDue()
      .catch((error) => {
        this.deps.log.error({ err: error }, 'tx check-back pass failed; will retry');
        return 0;
      })
      .finally(() => {
        this.running = null;
        this.schedule(0);
      });
  };

  /** One pass over the due prepared messages, at most maxChecksPerSec × pollMs of them. */
  async checkDue(): Promise<number> {
    const { store, nowMs, checks } = this.deps;
    const { maxChecksPerSec, pollMs, intervalSec } = this.options;
    const budget = Math.max(1, Math.ceil((maxChecksPerSec * pollMs) / 1000));
    const maxScanned = budget * 4; // skipped ones (producer busy) cost a little too
    checks.expire(nowMs(), intervalSec * 4000 + 60_000);
    let after: DueCursor | undefined;
    let handled = 0;
    let scanned = 0;
    while (handled < budget && scanned < maxScanned && !this.stopped) {
      const dueBy = Math.floor(nowMs() / 1000);
      const page = await store.pageDue({ dueBy, after, limit: Math.min(200, maxScanned - scanned), committed: false });
      for (const message of page) {
        if (handled >= budget || this.stopped) break;
        const result = await this.checkOne(message);
        if (result !== 'skipped') handled++;
      }
      scanned += page.length;
      if (page.length === 0) break;
      after = cursorOf(page[page.length - 1]);
    }
    return handled;
  }

  private checkOne(paged: StoredMessage): Promise<CheckResult> {
    const id = paged.header.messageId;
    return this.deps.serial.run(id, async () => {
      // Re-read inside the per-message lock: a TX_ACK may have decided it since the page was read.
      const message = await this.deps.store.get(id);
      if (!message || message.header.commit) return 'gone';
      let state: TxState = txStateOf(false, this.deps.checks.isChecking(id));
      if (this.deps.checks.unanswered(id)) state = nextTxState(state, 'noAnswer');
      if (message.checkCount >= this.options.maxChecks) return this.finalAction(message, state);
      return this.sendCheck(message, state);
    });
  }

  private async sendCheck(message: StoredMessage, state: TxState): Promise<CheckResult> {
    const { store, nowMs, checks, onCheck } = this.deps;
    const id = message.header.messageId;
    const producers = this.deps.producersOf(message.header.groupId).filter((s) => !s.closed);
    const producer = this.pickProducer(id, producers);
    if (producer === null) return 'skipped'; // every producer has its fill of unanswered checks
    nextTxState(state, 'checkDue');
    const checkCount = message.checkCount + 1;
    const now = nowMs();
    await store.recordCheck(id, checkCount, Math.floor(now / 1000) + this.options.intervalSec);
    onCheck?.(id, checkCount, producer);
    // No producer online counts as a check with no answer (doc/architecture.md §7): the message does not wait forever.
    if (!producer) return 'sent';
    checks.sent(id, producer.id, now);
    // The answer is a TX_ACK (the server's opaque) handled by the tx-ack stage; the pending
    // entry only lets the connection's timeout sweep clear it.
    producer.checkBack(
      { header: message.header, status: TxStatus.UNKNOWN, feedback: SERVER_CHECK_FEEDBACK },
      { resolve() {} },
    );
    return 'sent';
  }

  /** undefined: nobody online; null: everyone is busy with unanswered checks (try next pass). */
  private pickProducer(messageId: string, producers: SessionPort[]): SessionPort | undefined | null {
    if (producers.length === 0) return undefined;
    const { checks, nowMs, random } = this.deps;
    const free = producers.filter((s) => checks.outstandingOn(s.id) < this.options.maxOutstandingPerProducer);
    if (free.length === 0) return null;
    const silent = checks.silentFor(messageId);
    const fresh = silent ? free.filter((s) => !silent.has(s.id)) : free;
    return pickConsumer(fresh.length > 0 ? fresh : free, nowMs, random);
  }

  private async finalAction(message: StoredMessage, state: TxState): Promise<CheckResult> {
    const { store, log, checks, onFinal } = this.deps;
    const id = message.header.messageId;
    const { finalAction } = this.options;
    const context = {
      messageId: id,
      groupId: message.header.groupId,
      topic: message.header.topic,
      checks: message.checkCount,
    };
    if (finalAction === 'commit') {
      nextTxState(state, 'finalCommit');
      // a recovery page may see the commit before it resolves here: it leaves the delivery to us
      this.deps.inFlight.storeStarted(id);
      let committed: StoredMessage | undefined;
      try {
        committed = await store.commit(id);
      } finally {
        this.deps.inFlight.storeSettled(id);
      }
      checks.forget(id);
      log.warn(context, 'tx check-back: no decision after max checks; committed (final action)');
      if (committed) this.deps.deliverCommitted(committed);
    } else {
      nextTxState(state, 'giveUp');
      // doc/architecture.md §7: default rollback, the message kept in the dead-letter area with the reason.
      await store.deadLetter(
        id,
        `tx rolled back by the final action: no commit or rollback after ${message.checkCount} check-backs to group ${message.header.groupId}`,
      );
      checks.forget(id);
      log.warn(
        context,
        'tx check-back: no decision after max checks; rolled back into the dead letters (final action)',
      );
    }
    onFinal?.(id, finalAction, message.checkCount);
    return 'final';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
