// Every open connection, and every authenticated one by its group: producers and consumers alike
// (a consumer's group is delivered to, doc/architecture.md §6; a producer's is asked for tx
// check-backs, §7). Idle and unauthenticated connections are evicted by the broker's sweep (§6).

/** What the registry needs of a connection (server/session.ts implements it). */
export interface RegisteredSession {
  readonly groupId: string;
  readonly authenticated: boolean;
  readonly connectedAtMs: number;
  readonly lastSeenMs: number;
  /** its own silence limit instead of clientIdleMs (a gateway consumer: --gateway-idle, doc/http-gateway.md) */
  readonly idleLimitMs?: number;
  /** the deliver stage skips it while another of its group is reading (server/session.ts) */
  readonly passedOver: boolean;
  /**
   * it takes no delivery now, even when it is the group's only one: the group counts as without it
   * (a gateway pull consumer with a full queue, doc/http-gateway.md "Pull consume")
   */
  readonly full?: boolean;
  /** publishes received and not yet store-acked */
  readonly inFlightPublishes: number;
  /** server-initiated requests awaiting this connection's reply */
  readonly pendingCount: number;
  /** fails deliveries not answered within timeoutMs */
  expirePending(nowMs: number, timeoutMs: number): unknown;
  close(reason: string): void;
  destroy(): void;
}

export interface EvictionLimits {
  /** a connection that has not sent CONN_META within this is closed */
  authTimeoutMs: number;
  /** an authenticated connection silent (no heartbeat) for this long is closed */
  clientIdleMs: number;
}

export class Sessions<S extends RegisteredSession> {
  private readonly open = new Set<S>();
  private readonly groups = new Map<string, S[]>();
  /** sessions that may hold pending replies (awaiting() since their count was last seen at 0) */
  private readonly awaitingReplies = new Set<S>();
  /** where the sliced idle check goes on (a live iterator: closes during it are skipped) */
  private idleCursor: Iterator<S> | null = null;

  /** open connections, authenticated or not */
  get size(): number {
    return this.open.size;
  }

  /** authenticated sessions by group (the lists are replaced, never changed in place) */
  get byGroup(): ReadonlyMap<string, readonly S[]> {
    return this.groups;
  }

  /** A connection opened (not yet authenticated). */
  add(session: S): void {
    this.open.add(session);
  }

  /** The session authenticated for its group; true when it is the group's first. */
  authenticated(session: S): boolean {
    const list = this.groups.get(session.groupId) ?? [];
    this.groups.set(session.groupId, [...list, session]);
    return list.length === 0;
  }

  /** The session sent a request that awaits its reply: the sweep looks at it until none does. */
  awaiting(session: S): void {
    this.awaitingReplies.add(session);
  }

  remove(session: S): void {
    this.open.delete(session);
    this.awaitingReplies.delete(session);
    const list = this.groups.get(session.groupId);
    if (!list) return;
    const rest = list.filter((s) => s !== session);
    if (rest.length > 0) this.groups.set(session.groupId, rest);
    else this.groups.delete(session.groupId);
  }

  /** Every authenticated session of the group (tx check-backs go to the publishing group's). */
  inGroup(groupId: string): readonly S[] {
    return this.groups.get(groupId) ?? [];
  }

  /**
   * A group's sessions, minus those full (always), and minus those passed over (not reading their
   * socket: over half of maxBufferedBytes queued; or a delivery timed out and nothing answered
   * since) unless all the others are; the hard cap in Session.deliver closes consumers that do not read.
   */
  reading(groupId: string): readonly S[] {
    const list = this.groups.get(groupId);
    if (!list) return [];
    for (const session of list) {
      if (!session.passedOver && session.full !== true) continue;
      const open = list.filter((s) => s.full !== true);
      const reading = open.filter((s) => !s.passedOver);
      return reading.length > 0 ? reading : open;
    }
    return list;
  }

  /**
   * A delivery not acked within timeoutMs counts as failed (doc/architecture.md §6). Only sessions
   * awaiting replies are visited: 10,000 idle connections cost nothing here.
   */
  expirePending(nowMs: number, timeoutMs: number): void {
    for (const session of this.awaitingReplies) {
      session.expirePending(nowMs, timeoutMs);
      if (session.pendingCount === 0) this.awaitingReplies.delete(session);
    }
  }

  /**
   * Closes connections that never authenticated in time, or went silent. `share` of the open
   * sessions (at least one) are looked at, going on from where the last call stopped, so a sweep
   * spreads the pass over all of them across several ticks instead of blocking one.
   */
  evictIdle(nowMs: number, limits: EvictionLimits, share = 1): void {
    if (share >= 1) this.idleCursor = null;
    let budget = Math.max(1, Math.ceil(this.open.size * share));
    while (budget-- > 0) {
      this.idleCursor ??= this.open.values();
      const next = this.idleCursor.next();
      if (next.done) {
        this.idleCursor = null;
        if (share >= 1) return; // one whole pass
        continue;
      }
      const session = next.value;
      if (!session.authenticated && nowMs - session.connectedAtMs > limits.authTimeoutMs)
        session.close(`no CONN_META within ${limits.authTimeoutMs} ms`);
      else if (nowMs - session.lastSeenMs > (session.idleLimitMs ?? limits.clientIdleMs))
        session.close(`silent for ${session.idleLimitMs ?? limits.clientIdleMs} ms (no heartbeat)`);
    }
  }

  /** publishes received on any connection and not yet store-acked */
  publishesAwaitingAck(): number {
    let n = 0;
    for (const session of this.open) n += session.inFlightPublishes;
    return n;
  }

  /** Shutdown: every connection closes at once. */
  destroyAll(): void {
    for (const session of [...this.open]) session.destroy();
  }
}
