// Connection-level limits (issue 10, doc/security.md): failed handshakes rate-limited per remote
// address, and a tally of sockets refused at the connection cap. The cap itself is enforced by
// node's net.Server.maxConnections (set in server/broker.ts), which closes a socket before any
// byte of it is read; this file keeps the bookkeeping and what gets logged about it.

export interface AuthLimits {
  /** failed CONN_METAs from one address within authFailWindowMs before it is blocked */
  authFailLimit: number;
  authFailWindowMs: number;
  /** how long a blocked address has its CONN_METAs refused without the key being checked */
  authBlockMs: number;
}

interface FailureRecord {
  windowStartMs: number;
  failures: number;
  blockedUntilMs: number;
}

/** Above this many tracked addresses the oldest are forgotten, so a spray of sources cannot grow memory. */
const MAX_TRACKED_ADDRESSES = 100_000;

export class HandshakeLimiter {
  private readonly byAddress = new Map<string, FailureRecord>();

  constructor(
    private readonly limits: AuthLimits,
    private readonly nowMs: () => number,
  ) {}

  /** ms left on the address's block, 0 when it may try a key. */
  blockedForMs(address: string): number {
    const record = this.byAddress.get(address);
    if (!record) return 0;
    return Math.max(0, record.blockedUntilMs - this.nowMs());
  }

  /** Counts a failed handshake; true when this failure starts a block. */
  recordFailure(address: string): boolean {
    const now = this.nowMs();
    let record = this.byAddress.get(address);
    if (!record || now - record.windowStartMs > this.limits.authFailWindowMs) {
      record = { windowStartMs: now, failures: 0, blockedUntilMs: record?.blockedUntilMs ?? 0 };
      this.byAddress.delete(address); // re-insert: Map order = age, oldest evicted first
      this.byAddress.set(address, record);
      if (this.byAddress.size > MAX_TRACKED_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value as string);
    }
    record.failures++;
    if (record.failures < this.limits.authFailLimit) return false;
    record.failures = 0;
    record.windowStartMs = now;
    record.blockedUntilMs = now + this.limits.authBlockMs;
    return true;
  }

  /** Drops records whose window and block are both over (called from the broker's 1 s sweep). */
  sweep(): void {
    const now = this.nowMs();
    for (const [address, record] of this.byAddress) {
      if (now - record.windowStartMs > this.limits.authFailWindowMs && record.blockedUntilMs <= now) this.byAddress.delete(address);
    }
  }

  get trackedAddresses(): number {
    return this.byAddress.size;
  }
}

/**
 * Sockets refused at the connection cap. The first refusal of a burst is logged at once; the rest
 * are summed into one line per sweep, so a flood of 10,000 sockets makes a handful of log lines.
 */
export class RefusalTally {
  private refusedSinceLog = 0;
  private total = 0;
  private loggedBurst = false;

  /** true when the caller should log this refusal now (the first of a burst). */
  refused(): boolean {
    this.total++;
    if (!this.loggedBurst) {
      this.loggedBurst = true;
      return true;
    }
    this.refusedSinceLog++;
    return false;
  }

  /** The count to log for the last sweep period (0: nothing refused, the burst is over). */
  drain(): number {
    const n = this.refusedSinceLog;
    this.refusedSinceLog = 0;
    if (n === 0) this.loggedBurst = false;
    return n;
  }

  get totalRefused(): number {
    return this.total;
  }
}

/** The only IP part of "host:port" / "[v6]:port" / an IPv4-mapped address: the key of the limiter. */
export function addressOf(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
