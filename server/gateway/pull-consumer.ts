// A group's pull consumer on the HTTP gateway (doc/http-gateway.md "Pull consume"): a consumer of
// the group like a connection (in the Sessions registry, picked by the deliver stage, its
// leases timing out on the broker's sweep), whose "socket" is a queue that HTTP polls take
// messages from. A queued message waits for a poll with no timeout (a bounded queue: full, the
// group takes no delivery and messages park for it), then is leased to the poller for the delivery
// timeout; an ack, a nack or the lease's end settles it.
import type { Delivery, PendingReply, SessionPort } from '../../handler/session-port';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../logger';
import { UNRESPONSIVE_MS } from '../session';
import type { RegisteredSession } from '../sessions';
import { type GatewayMessage, gatewayMessage } from './message-json';

/** What one id of an acks request came to (doc/http-gateway.md "Pull consume"). */
export type SettleOutcome = 'acked' | 'nacked' | 'not leased';

interface Queued {
  delivery: Delivery;
  reply: PendingReply;
  /** a poll of another topic or type first passed it by (0: none yet) */
  skippedAtMs: number;
}

/**
 * Messages queued for polls, at most (doc/http-gateway.md "Pull consume"); a few more may arrive
 * from attempts started before it filled.
 * @default 1000
 */
export const PULL_QUEUE_MAX = 1000;
/** after polls make room in a full queue, re-drives of the group's parked messages are this far apart at least */
export const ROOM_REDRIVE_MIN_MS = 1000;

interface Lease {
  reply: PendingReply;
  atMs: number;
}

export interface PendingPoll {
  readonly messages: Promise<GatewayMessage[]>;
  cancel(): void;
}

interface Poll {
  topic: string;
  /** '*' takes any type */
  messageType: string;
  max: number;
  resolve: (messages: GatewayMessage[]) => void;
  timer: TimerHandle | null;
}

export interface PullConsumerDeps {
  clock: Clock;
  log: Logger;
  /** silence (no poll, no ack request) after which the consumer closes (--gateway-idle) */
  idleLimitMs: number;
  /** it closed: the registry drops it (Sessions.remove) */
  onClose: (consumer: GatewayPullConsumer) => void;
  /** polls made room in the queue after it was full: the group's parked messages may come (throttled) */
  onRoom: (consumer: GatewayPullConsumer) => void;
  /** it holds deliveries (queued or leased) that can time out: the broker's sweep looks at it until it holds none */
  onAwaiting: (consumer: GatewayPullConsumer) => void;
  /** PULL_QUEUE_MAX unless given */
  queueMax?: number;
}

/** Ids above any a TCP connection reaches (server/session.ts counts up from 1; gateway requests count down from -1). */
let nextId = 2_000_000_000;

export class GatewayPullConsumer implements SessionPort, RegisteredSession {
  /** not a connection: answers no tx check-back (server/delivery-engine.ts producersOf) */
  readonly gateway = true;
  readonly id = nextId++;
  readonly authenticated = true;
  readonly warmingupSec = 0;
  readonly authAtMs: number;
  readonly connectedAtMs: number;
  readonly inFlightPublishes = 0;
  readonly idleLimitMs: number;
  remote = 'http';
  closed = false;
  private lastActivityMs: number;
  /** delivered, not yet polled: in delivery order */
  private ready: Queued[] = [];
  /** polled, not yet settled, by message id: in lease order (the sweep stops at the first in time) */
  private readonly leases = new Map<string, Lease>();
  private polls: Poll[] = [];
  private flushScheduled = false;
  /** a lease ran out (or a passed-by message waited out the timeout), and nothing was polled since */
  private timedOutAtMs = 0;
  private readonly queueMax: number;
  /** the queue reached queueMax since polls last made room: messages may be parked for the group */
  private filled = false;
  private lastRoomMs = 0;
  private roomTimer: TimerHandle | null = null;

  constructor(
    readonly groupId: string,
    private readonly deps: PullConsumerDeps,
  ) {
    this.authAtMs = this.connectedAtMs = this.lastActivityMs = deps.clock.nowMs();
    this.idleLimitMs = deps.idleLimitMs;
    this.queueMax = deps.queueMax ?? PULL_QUEUE_MAX;
  }

  /** The queue is at its bound: the deliver stage treats the group as without this consumer (server/sessions.ts reading). */
  get full(): boolean {
    return this.ready.length >= this.queueMax;
  }

  /** A poll waiting counts as activity: the group is there, it has just nothing to take. */
  get lastSeenMs(): number {
    return this.polls.length > 0 ? this.deps.clock.nowMs() : this.lastActivityMs;
  }

  /** Like a connection that let a delivery time out (server/session.ts): others of its group go first. */
  get passedOver(): boolean {
    if (this.timedOutAtMs === 0) return false;
    if (this.deps.clock.nowMs() - this.timedOutAtMs < UNRESPONSIVE_MS) return true;
    this.timedOutAtMs = 0;
    return false;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** queued and leased deliveries: the sweep's expirePending looks at this consumer while any are held */
  get pendingCount(): number {
    return this.ready.length + this.leases.size;
  }

  get leaseCount(): number {
    return this.leases.size;
  }

  /** Any request of the group (poll, acks) keeps it. */
  touch(remote: string): void {
    this.lastActivityMs = this.deps.clock.nowMs();
    this.remote = remote;
  }

  deliver(_cmdType: number, delivery: Delivery, reply: PendingReply): void {
    if (this.closed) return reply.handBack ? reply.handBack() : reply.resolve(false, 'gateway consumer closed');
    this.ready.push({ delivery, reply, skippedAtMs: 0 });
    this.deps.onAwaiting(this);
    if (this.ready.length >= this.queueMax) this.filled = true;
    this.scheduleFlush();
  }

  /**
   * Up to `max` messages of this topic (and type, '*' = any) at once, or the first that arrive
   * within `waitMs`; [] when none came. Each returned message is leased. `cancel`: the poller went
   * away before the answer (its HTTP connection closed), so nothing is leased to it.
   */
  poll(topic: string, messageType: string, max: number, waitMs: number): PendingPoll {
    const taken = this.take(topic, messageType, max);
    if (taken.length > 0 || waitMs <= 0 || this.closed) return { messages: Promise.resolve(taken), cancel() {} };
    let poll!: Poll;
    const messages = new Promise<GatewayMessage[]>((resolve) => {
      poll = { topic, messageType, max, resolve, timer: null };
    });
    poll.timer = this.deps.clock.setTimeout(() => this.endPoll(poll, []), waitMs);
    this.polls.push(poll);
    return { messages, cancel: () => this.endPoll(poll, []) };
  }

  /** Settles leased messages: ack → consumed, nack → failed delivery (retried on the usual schedule). */
  settle(ids: readonly string[], ok: boolean): SettleOutcome[] {
    return ids.map((id) => {
      const lease = this.leases.get(id.toLowerCase());
      if (!lease) return 'not leased';
      this.leases.delete(id.toLowerCase());
      lease.reply.resolve(ok, ok ? undefined : 'nacked over the HTTP gateway');
      return ok ? 'acked' : 'nacked';
    });
  }

  /**
   * The broker's sweep: leases unsettled within timeoutMs fail. A queued message runs no timeout,
   * unless polls of other topics or types have passed it by for timeoutMs (nobody polls its own).
   */
  expirePending(nowMs: number, timeoutMs: number): number {
    let expired = 0;
    if (this.ready.some((queued) => queued.skippedAtMs > 0 && nowMs - queued.skippedAtMs >= timeoutMs)) {
      // The queue is replaced before any reply resolves: a retry it starts may be delivered here again.
      const stale = (queued: Queued) => queued.skippedAtMs > 0 && nowMs - queued.skippedAtMs >= timeoutMs;
      const passedBy = this.ready.filter(stale);
      this.ready = this.ready.filter((queued) => !stale(queued));
      for (const queued of passedBy)
        queued.reply.resolve(false, 'no poll of its topic and type within the delivery timeout');
      expired += passedBy.length;
      this.madeRoom();
    }
    for (const [id, lease] of this.leases) {
      if (nowMs - lease.atMs < timeoutMs) break;
      this.leases.delete(id);
      lease.reply.resolve(false, 'lease expired: no ack within the delivery timeout');
      expired++;
    }
    if (expired > 0) this.timedOutAtMs = nowMs;
    return expired;
  }

  sendStoreAck(): void {}

  checkBack(_ack: unknown, pending: PendingReply): void {
    pending.resolve(false, 'a gateway consumer answers no check-back');
  }

  failed(stage: string, error: unknown): void {
    this.deps.log.error({ groupId: this.groupId, stage, err: error }, 'unexpected error in a stage: gateway consumer');
    this.close(`unexpected error in stage ${stage}`);
  }

  /**
   * Idle (--gateway-idle), shutdown, or a stage error: it leaves the registry, as a disconnected
   * consumer does; its leases fail at once (retried, or parked for the group), and what it queued
   * but never handed out goes back to the engine uncounted (PendingReply.handBack).
   */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.log.info({ groupId: this.groupId, remote: this.remote, reason }, 'gateway consumer released');
    this.deps.onClose(this);
    if (this.roomTimer !== null) this.deps.clock.clearTimeout(this.roomTimer);
    this.roomTimer = null;
    for (const poll of [...this.polls]) this.endPoll(poll, []);
    const ready = this.ready;
    this.ready = [];
    // never handed out: back to the engine at no attempt's cost (parked, or to another consumer)
    for (const queued of ready)
      if (queued.reply.handBack) queued.reply.handBack();
      else queued.reply.resolve(false, 'gateway consumer released');
    const leases = [...this.leases.values()];
    this.leases.clear();
    for (const lease of leases) lease.reply.resolve(false, 'gateway consumer released');
  }

  destroy(): void {
    this.close('broker stopping');
  }

  /** Deliveries arriving in one tick go out in one answer per waiting poll. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.polls.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const poll of [...this.polls]) {
        const taken = this.take(poll.topic, poll.messageType, poll.max);
        if (taken.length > 0) this.endPoll(poll, taken);
      }
    });
  }

  private endPoll(poll: Poll, messages: GatewayMessage[]): void {
    const at = this.polls.indexOf(poll);
    if (at < 0) return;
    this.polls.splice(at, 1);
    if (poll.timer !== null) this.deps.clock.clearTimeout(poll.timer);
    this.lastActivityMs = this.deps.clock.nowMs();
    poll.resolve(messages);
  }

  private take(topic: string, messageType: string, max: number): GatewayMessage[] {
    const out: GatewayMessage[] = [];
    if (this.ready.length === 0) return out;
    const now = this.deps.clock.nowMs();
    const keep: Queued[] = [];
    const superseded: PendingReply[] = [];
    for (const queued of this.ready) {
      const { header } = queued.delivery.message;
      if (out.length >= max) {
        keep.push(queued);
        continue;
      }
      if (header.topic !== topic || (messageType !== '*' && header.messageType !== messageType)) {
        if (queued.skippedAtMs === 0) queued.skippedAtMs = now;
        keep.push(queued);
        continue;
      }
      const id = header.messageId.toLowerCase();
      // One attempt per message at a time (doc/architecture.md §6): an older lease of it is stale.
      const older = this.leases.get(id);
      if (older) superseded.push(older.reply);
      this.leases.delete(id);
      this.leases.set(id, { reply: queued.reply, atMs: now });
      out.push(gatewayMessage(queued.delivery.message, queued.delivery.attempt));
    }
    this.ready = keep;
    for (const reply of superseded) reply.resolve(false, 'superseded');
    if (out.length > 0) {
      this.timedOutAtMs = 0;
      this.madeRoom();
    }
    return out;
  }

  /** Below the bound again after it filled: the group's parked messages are re-driven, at most once per ROOM_REDRIVE_MIN_MS. */
  private madeRoom(): void {
    if (!this.filled || this.ready.length >= this.queueMax || this.closed || this.roomTimer !== null) return;
    const waitMs = this.lastRoomMs + ROOM_REDRIVE_MIN_MS - this.deps.clock.nowMs();
    if (waitMs > 0) {
      this.roomTimer = this.deps.clock.setTimeout(() => {
        this.roomTimer = null;
        this.madeRoom();
      }, waitMs);
      return;
    }
    this.filled = false;
    this.lastRoomMs = this.deps.clock.nowMs();
    this.deps.onRoom(this);
  }
}
