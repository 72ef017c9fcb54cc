// The check-backs awaiting an answer (doc/architecture.md §7), broker-wide, in memory. A message with an
// entry here is in the "checking" state of tx-states.ts. The scheduler records each check it
// sends; the tx-ack stage records the answer (any TX_ACK for that message from the asked
// connection). An entry still here when the next check falls due means that producer did not
// answer, so the next check goes to another member of the group. Also counts the unanswered
// checks per connection, so a backlog cannot pile up on one slow producer.
//
// Nothing here is durable on purpose: after a restart every prepared message is "prepared"
// again and its stored check count and due time carry on (doc/architecture.md §6 recovery).

interface Outstanding {
  sessionId: number;
  sentAtMs: number;
}

export class TxCheckRegistry {
  private readonly outstanding = new Map<string, Outstanding>();
  /** per message: connections that left a check unanswered (cleared on a decision) */
  private readonly silent = new Map<string, Set<number>>();
  private readonly perSession = new Map<number, number>();

  isChecking(messageId: string): boolean {
    return this.outstanding.has(messageId);
  }

  /** A check-back went out to this connection. */
  sent(messageId: string, sessionId: number, nowMs: number): void {
    this.clearOutstanding(messageId);
    this.outstanding.set(messageId, { sessionId, sentAtMs: nowMs });
    this.perSession.set(sessionId, (this.perSession.get(sessionId) ?? 0) + 1);
  }

  /**
   * A TX_ACK for this message arrived on this connection. True when it answers our check-back
   * (the message was "checking" and this connection was the one asked).
   */
  answered(messageId: string, sessionId: number): boolean {
    const entry = this.outstanding.get(messageId);
    if (!entry || entry.sessionId !== sessionId) return false;
    this.clearOutstanding(messageId);
    return true;
  }

  /**
   * The next check is due and the previous one was never answered: remember the silent
   * connection for this message. Returns true when there was an unanswered check.
   */
  unanswered(messageId: string): boolean {
    const entry = this.outstanding.get(messageId);
    if (!entry) return false;
    this.clearOutstanding(messageId);
    const set = this.silent.get(messageId) ?? new Set<number>();
    set.add(entry.sessionId);
    this.silent.set(messageId, set);
    return true;
  }

  /** Connections to avoid for this message's next check (they left one unanswered). */
  silentFor(messageId: string): ReadonlySet<number> | undefined {
    return this.silent.get(messageId);
  }

  /** Unanswered checks currently out on this connection. */
  outstandingOn(sessionId: number): number {
    return this.perSession.get(sessionId) ?? 0;
  }

  /** The message was decided (commit, rollback, final action) or is gone. */
  forget(messageId: string): void {
    this.clearOutstanding(messageId);
    this.silent.delete(messageId);
  }

  /** Drops entries older than maxAgeMs (their message was decided elsewhere, e.g. another broker). */
  expire(nowMs: number, maxAgeMs: number): void {
    for (const [messageId, entry] of this.outstanding) {
      if (nowMs - entry.sentAtMs > maxAgeMs) this.unanswered(messageId);
    }
  }

  get size(): number {
    return this.outstanding.size;
  }

  private clearOutstanding(messageId: string): void {
    const entry = this.outstanding.get(messageId);
    if (!entry) return;
    this.outstanding.delete(messageId);
    const n = (this.perSession.get(entry.sessionId) ?? 1) - 1;
    if (n > 0) this.perSession.set(entry.sessionId, n);
    else this.perSession.delete(entry.sessionId);
  }
}
