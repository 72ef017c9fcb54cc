// Which ids of the current run were acked by the broker and which reached the consumer: counts
// duplicates, losses (lost = acked but never received) and stale deliveries (another run's
// message, payload.ts), records the publish→deliver latency of each first receipt, and tells the
// run when every acked message has arrived.
import { LatencyRecorder } from '../latency';
import { newRunId, nowMs, readPayload } from './payload';

const ACKED = 1;
const RECEIVED = 2;

/** What the publish loop and the result read of a run's receipts: one group's (ReceiptTracker) or several (bench/group-receipts.ts). */
export interface Receipts {
  readonly run: number;
  readonly received: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly lost: number;
  readonly deliver: LatencyRecorder;
  readonly lastReceivedMs: number;
  markAcked(id: number): void;
  whenDrained(idleMs: number): Promise<void>;
  nextRun(): void;
}

export class ReceiptTracker implements Receipts {
  /** stamped on every payload of this run (payload.ts) */
  run: number;
  private flags = new Uint8Array(1024);
  /** acked, not yet received */
  private pending = 0;
  /** distinct messages of this run received */
  received = 0;
  /** deliveries of a message of this run already received */
  duplicates = 0;
  /** deliveries of another run's message (an earlier phase or run, late or redelivered): never receipts */
  stale = 0;
  /** intended send → first receipt, for messages of this run */
  deliver: LatencyRecorder;
  /** when the last first receipt came (nowMs), 0 before any */
  lastReceivedMs = 0;
  private onProgress: (() => void) | null = null;

  constructor(run = newRunId(), deliver = new LatencyRecorder()) {
    this.run = run;
    this.deliver = deliver;
  }

  /** Starts the next phase (warm-up → measured) under a new run id, with nothing counted. */
  nextRun(run = newRunId(), deliver = new LatencyRecorder()): void {
    this.run = run;
    this.flags = new Uint8Array(1024);
    this.pending = 0;
    this.received = this.duplicates = this.stale = this.lastReceivedMs = 0;
    this.deliver = deliver;
  }

  markAcked(id: number): void {
    this.ensure(id);
    this.flags[id] |= ACKED;
    if ((this.flags[id] & RECEIVED) === 0) this.pending++;
  }

  /**
   * One delivery of a bench payload: counted as a receipt of this run (its latency recorded), a duplicate, or stale.
   */
  receive(payload: Uint8Array): void {
    const { id, intendedMs, run } = readPayload(payload);
    if (run !== this.run) {
      this.stale++;
      return;
    }
    if (!this.markReceived(id)) return;
    const now = nowMs();
    this.deliver.recordMs(now - intendedMs);
    this.lastReceivedMs = now;
  }

  /** A delivery of `id` of this run; false when it is a duplicate. */
  private markReceived(id: number): boolean {
    this.ensure(id);
    if (this.flags[id] & RECEIVED) {
      this.duplicates++;
      return false;
    }
    this.flags[id] |= RECEIVED;
    this.received++;
    if (this.flags[id] & ACKED) this.pending--;
    this.onProgress?.();
    return true;
  }

  /** Acked messages never received (so far). */
  get lost(): number {
    return this.pending;
  }

  /**
   * Resolves once every acked message was received (call after the publish phase), or when
   * `idleMs` pass without a new delivery: what is missing then counts as lost.
   */
  whenDrained(idleMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.onProgress = null;
        resolve();
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(finish, idleMs);
      };
      this.onProgress = () => (this.pending === 0 ? finish() : arm());
      if (this.pending === 0) finish();
      else arm();
    });
  }

  private ensure(id: number): void {
    if (id < this.flags.length) return;
    let length = this.flags.length;
    while (length <= id) length *= 2;
    const grown = new Uint8Array(length);
    grown.set(this.flags);
    this.flags = grown;
  }
}
