// Connection-level limits (doc/security.md): wrong keys rate-limited per (remote
// address, group), and a tally of sockets refused at the connection cap. The cap itself is
// enforced by node's net.Server.maxConnections (set in server/listener.ts), which closes a socket
// before any byte of it is read; this file keeps the bookkeeping and what gets logged about it.
import type { Logger } from './logger';

export interface AuthLimits {
  /** refused keys for one group from one address within authFailWindowMs before that pair is blocked */
  authFailLimit: number;
  authFailWindowMs: number;
  /** how long a blocked pair has its CONN_METAs refused without the key being checked */
  authBlockMs: number;
}

/**
 * Body bytes a frame may have before its connection has authenticated: a CONN_META is a group id,
 * a key and a number. Bounds what unauthenticated connections buffer, broker-wide, to
 * maxConnections × this (doc/security.md).
 */
export const PRE_AUTH_MAX_BODY_BYTES = 4096;

interface FailureRecord {
  windowStartMs: number;
  failures: number;
  blockedUntilMs: number;
}

/** Above this many tracked pairs the oldest are forgotten, so a spray of sources cannot grow memory. */
const MAX_TRACKED = 100_000;
/** Of a group id, only this much is part of the key (memory per record stays small). */
const GROUP_KEY_CHARS = 128;

/**
 * Brute-force protection of secret keys. Only refused keys count, per (address, group): a broken
 * client, or another group behind the same NAT, never locks out a well-behaved one. An unknown
 * group counts like a wrong key, so a block says nothing about whether the group exists.
 */
export class HandshakeLimiter {
  private readonly byKey = new Map<string, FailureRecord>();

  constructor(
    private readonly limits: AuthLimits,
    private readonly nowMs: () => number,
  ) {}

  /** ms left on the pair's block, 0 when it may try a key. */
  blockedForMs(address: string, groupId: string): number {
    const record = this.byKey.get(keyOf(address, groupId));
    if (!record) return 0;
    return Math.max(0, record.blockedUntilMs - this.nowMs());
  }

  /** Counts a refused key; true when this failure starts a block. */
  recordFailure(address: string, groupId: string): boolean {
    const key = keyOf(address, groupId);
    const now = this.nowMs();
    let record = this.byKey.get(key);
    if (!record || now - record.windowStartMs > this.limits.authFailWindowMs) {
      record = { windowStartMs: now, failures: 0, blockedUntilMs: record?.blockedUntilMs ?? 0 };
      this.byKey.delete(key); // re-insert: Map order = age, oldest evicted first
      this.byKey.set(key, record);
      if (this.byKey.size > MAX_TRACKED) this.byKey.delete(this.byKey.keys().next().value as string);
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
    for (const [key, record] of this.byKey) {
      if (now - record.windowStartMs > this.limits.authFailWindowMs && record.blockedUntilMs <= now)
        this.byKey.delete(key);
    }
  }

  get tracked(): number {
    return this.byKey.size;
  }
}

/**
 * The access stage's guard (doc/architecture.md §5 "access"): a blocked (address, group) pair has
 * its CONN_META refused without the key being looked at; each refused key is counted. Bad input
 * counts for nothing here.
 */
export class HandshakeThrottle {
  private readonly limiter: HandshakeLimiter;

  constructor(
    private readonly limits: AuthLimits,
    nowMs: () => number,
    private readonly log: Logger,
  ) {
    this.limiter = new HandshakeLimiter(limits, nowMs);
  }

  /** The refusal for a blocked pair, else null. */
  refusal(remote: string | undefined, groupId: string): string | null {
    const address = addressOf(remote);
    const blockedMs = this.limiter.blockedForMs(address, groupId);
    if (blockedMs === 0) return null;
    return `too many failed handshakes for this group from ${address}: retry in ${Math.ceil(blockedMs / 1000)} s`;
  }

  /** A refused key (unknown group or wrong key). */
  refused(remote: string | undefined, groupId: string): void {
    const address = addressOf(remote);
    if (this.limiter.recordFailure(address, groupId)) {
      const { authFailLimit, authFailWindowMs, authBlockMs } = this.limits;
      this.log.warn(
        { address, groupId, failures: authFailLimit, windowMs: authFailWindowMs, blockMs: authBlockMs },
        'failed handshakes: group blocked from this address',
      );
    }
  }

  /** Forgets pairs whose window and block are over (the broker's 1 s sweep). */
  sweep(): void {
    this.limiter.sweep();
  }
}

function keyOf(address: string, groupId: string): string {
  return `${address} ${groupId.slice(0, GROUP_KEY_CHARS)}`;
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
