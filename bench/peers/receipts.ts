// Which ids were acked by the broker and which reached the consumer: counts duplicates and losses
// (lost = acked but never received), and tells the run when every acked message has arrived.
const ACKED = 1;
const RECEIVED = 2;

export class ReceiptTracker {
  private flags = new Uint8Array(1024);
  /** acked, not yet received */
  private pending = 0;
  received = 0;
  duplicates = 0;
  private onProgress: (() => void) | null = null;

  markAcked(id: number): void {
    this.ensure(id);
    this.flags[id] |= ACKED;
    if ((this.flags[id] & RECEIVED) === 0) this.pending++;
  }

  /** A delivery of `id`; false when it is a duplicate. */
  markReceived(id: number): boolean {
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
