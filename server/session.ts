// One client connection (Aedes' lib/client.js): framing, auth state, and the pending requests
// of THIS connection by opaque (KiteQ keeps one process-wide table and a peer's reply can
// complete one of its own requests: doc/architecture.md §2, §12).
import type { Socket } from 'node:net';
import type { AuthenticatingSession } from '../handler/access';
import type { AcceptingSession } from '../handler/accept';
import type { PacketBody, PendingReply } from '../handler/session-port';
import { CmdType } from '../protocol/commands';
import { ProtocolError } from '../protocol/errors';
import { type Frame, FrameDecoder } from '../protocol/frame-decoder';
import { FrameWriter } from '../protocol/frame-writer';
import { encodeConnAuthAck } from '../protocol/messages/conn-auth-ack';
import type { ConnMeta } from '../protocol/messages/conn-meta';
import { storeAckSize, writeStoreAck } from '../protocol/messages/store-ack';
import { type TxAck, encodeTxAck } from '../protocol/messages/tx-ack';
import { StageError } from '../handler/stage-error';
import { PRE_AUTH_MAX_BODY_BYTES } from './limits';
import type { Logger } from './logger';

interface Pending {
  reply: PendingReply;
  sentAtMs: number;
  /** set for a tx check-back: only a TX_ACK about this message settles it, never a DeliverAck */
  checkedId?: string;
}

export interface SessionHooks {
  onFrame: (session: Session, frame: Frame) => void;
  onClose: (session: Session) => void;
  /** a request now awaits this connection's reply (its first pending one): the sweep must look at it */
  onAwaiting: (session: Session) => void;
  log: Logger;
  maxBodyBytes: number;
  nowMs: () => number;
  /** publishes awaiting their store-ack before the socket is paused (back-pressure) */
  maxInFlightPublishes?: number;
  /** outgoing bytes queued past which the connection is closed (a consumer that does not read) */
  maxBufferedBytes?: number;
}

const MAX_OPAQUE = 0x7fffffff;
/** how long a consumer that let a delivery time out is passed over, unless it answers first (doc/delivery.md) */
export const UNRESPONSIVE_MS = 30_000;
/** Over maxBufferedBytes, a consumer whose socket completed no write for this long is not reading. */
export const READ_PROGRESS_MS = 2_000;

export class Session implements AuthenticatingSession, AcceptingSession {
  readonly remote: string;
  /** the peer's IP alone (the key of per-address limits) */
  readonly socketAddress: string | undefined;
  groupId = '';
  authenticated = false;
  authAtMs = 0;
  warmingupSec = 0;
  closed = false;
  lastSeenMs: number;
  readonly connectedAtMs: number;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  /** server-initiated requests (deliveries, check-backs) awaiting this connection's reply */
  private readonly pending = new Map<number, Pending>();
  private nextOpaque = 1;
  /** publishes received whose store-ack has not been sent yet (every publish gets exactly one) */
  private publishesInFlight = 0;
  private readingPaused = false;
  /** unix ms of the last delivery that timed out with no reply from this consumer since; 0 = none */
  private timedOutAtMs = 0;
  /** bytes the socket had handed to the kernel when last looked at, and when that changed (readWithin) */
  private flushedSeen = -1;
  private flushedAtMs = 0;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly hooks: SessionHooks,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.socketAddress = socket.remoteAddress;
    // Before CONN_META only a small frame is accepted (doc/security.md); markAuthenticated raises it.
    this.decoder = new FrameDecoder(Math.min(hooks.maxBodyBytes, PRE_AUTH_MAX_BODY_BYTES));
    this.writer = new FrameWriter(socket);
    this.connectedAtMs = this.lastSeenMs = hooks.nowMs();
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', (error) => this.hooks.log.debug({ remote: this.remote, err: error.message }, 'socket error'));
    socket.on('close', () => this.onSocketClosed());
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastSeenMs = this.hooks.nowMs();
    try {
      this.decoder.push(chunk, (frame) => {
        if (this.closed) return;
        if (frame.cmdType === CmdType.BYTES_MESSAGE || frame.cmdType === CmdType.STRING_MESSAGE) this.publishStarted();
        this.hooks.onFrame(this, frame);
      });
    } catch (error) {
      if (error instanceof ProtocolError) this.protocolViolation(error);
      else if (error instanceof StageError) this.failed(error.stage, error.cause);
      else this.failed('frame', error);
    }
  };

  /** doc/architecture.md §2: bad input gets one clear log line and a closed connection, never a stopped broker. */
  protocolViolation(error: ProtocolError): void {
    this.hooks.log.warn(
      { remote: this.remote, groupId: this.groupId || undefined, rule: error.rule, err: error.message },
      'protocol violation: closing connection',
    );
    this.destroy();
  }

  /** A bug met while handling this connection's packet: this connection closes, the broker goes on. */
  failed(stage: string, error: unknown): void {
    this.hooks.log.error(
      { remote: this.remote, groupId: this.groupId || undefined, stage, err: error },
      'unexpected error in a stage: closing connection',
    );
    this.destroy();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes queued for this socket, in our writer and in the kernel-side buffer of the socket. */
  get bufferedBytes(): number {
    return this.writer.pendingBytes + this.socket.writableLength;
  }

  private allocOpaque(): number {
    const opaque = this.nextOpaque;
    this.nextOpaque = opaque >= MAX_OPAQUE ? 1 : opaque + 1;
    return opaque;
  }

  markAuthenticated(meta: ConnMeta): void {
    this.authenticated = true;
    this.groupId = meta.groupId;
    this.warmingupSec = Math.max(0, meta.warmingupSec);
    this.authAtMs = this.hooks.nowMs();
    this.decoder.maxBodyBytes = this.hooks.maxBodyBytes;
  }

  replyConnAuth(opaque: number, status: boolean, feedback: string): void {
    this.writer.send(opaque, CmdType.CONN_AUTH, encodeConnAuthAck({ status, feedback }));
  }

  /**
   * Back-pressure (doc/security.md): at maxInFlightPublishes un-acked publishes this
   * connection's socket stops being read, so TCP flow control slows the producer instead of the
   * broker queueing without bound. Frames already in the chunk being decoded still pass.
   */
  private publishStarted(): void {
    this.publishesInFlight++;
    const max = this.hooks.maxInFlightPublishes ?? Infinity;
    if (!this.readingPaused && this.publishesInFlight >= max) {
      this.readingPaused = true;
      this.socket.pause();
    }
  }

  get inFlightPublishes(): number {
    return this.publishesInFlight;
  }

  get paused(): boolean {
    return this.readingPaused;
  }

  /**
   * Past half of maxBufferedBytes unread, the deliver stage skips this consumer. Counted on the
   * socket only: the frame writer's queue is this tick's batch, handed to the socket every tick.
   */
  get congested(): boolean {
    return this.socket.writableLength > (this.hooks.maxBufferedBytes ?? Infinity) / 2;
  }

  /**
   * Passed over by the deliver stage while another consumer of its group is not: congested, or a
   * delivery to it timed out within the last UNRESPONSIVE_MS and it has answered nothing since. A
   * retry after a timeout must not go back, by chance, to the consumer that let it time out.
   */
  get passedOver(): boolean {
    if (this.timedOutAtMs !== 0) {
      if (this.hooks.nowMs() - this.timedOutAtMs < UNRESPONSIVE_MS) return true;
      this.timedOutAtMs = 0;
    }
    return this.congested;
  }

  sendStoreAck(opaque: number, messageId: string, status: boolean, feedback: string): void {
    if (this.publishesInFlight > 0) this.publishesInFlight--;
    if (this.readingPaused && this.publishesInFlight < (this.hooks.maxInFlightPublishes ?? Infinity)) {
      this.readingPaused = false;
      if (!this.closed) this.socket.resume();
    }
    // encoded in place: one per publish, no buffer of its own
    const size = storeAckSize(messageId, feedback);
    const at = this.writer.begin(opaque, CmdType.MESSAGE_STORE_ACK, size);
    if (at < 0) return;
    writeStoreAck(this.writer.target, at, size, messageId, status, feedback);
    this.writer.end();
  }

  echoHeartbeat(opaque: number, raw: Buffer): void {
    this.writer.send(opaque, CmdType.HEARTBEAT, raw);
  }

  deliver(cmdType: number, body: PacketBody, reply: PendingReply): void {
    if (this.closed) return reply.resolve(false, 'connection closed');
    // A consumer that stops reading cannot make the broker hold its deliveries without bound. One
    // that reads but is behind (a burst of redeliveries, a message larger than the bound) is not
    // closed for it: it is passed over while congested, and a delivery timing out while it is
    // congested closes it (expireDeliveries).
    const max = this.hooks.maxBufferedBytes ?? Infinity;
    if (this.socket.writableLength > max && !this.readWithin(READ_PROGRESS_MS)) {
      reply.resolve(false, 'consumer not reading');
      this.destroyAsSlow(`${this.socket.writableLength} bytes unread, over maxBufferedBytes ${max}`);
      return;
    }
    const opaque = this.allocOpaque();
    this.pending.set(opaque, { reply, sentAtMs: this.hooks.nowMs() });
    if (this.pending.size === 1) this.hooks.onAwaiting(this);
    this.writer.sendBody(opaque, cmdType, body); // encoded in place (DeliveryJob.writeTo), the tail by reference
  }

  checkBack(ack: TxAck, reply: PendingReply): void {
    if (this.closed) return reply.resolve(false, 'connection closed');
    const opaque = this.allocOpaque();
    this.pending.set(opaque, { reply, sentAtMs: this.hooks.nowMs(), checkedId: ack.header.messageId.toLowerCase() });
    if (this.pending.size === 1) this.hooks.onAwaiting(this);
    this.writer.send(opaque, CmdType.TX_ACK, encodeTxAck(ack));
  }

  /** A DeliverAck: settles the delivery sent with this opaque (not a check-back that shares it). */
  settlePending(opaque: number, status: boolean, feedback?: string): boolean {
    const entry = this.pending.get(opaque);
    if (!entry || entry.checkedId !== undefined) return false;
    this.pending.delete(opaque);
    this.timedOutAtMs = 0; // it answers again
    entry.reply.resolve(status, feedback);
    return true;
  }

  /**
   * Fails replies older than timeoutMs (doc/architecture.md §6: not acked within the delivery timeout = failed).
   * The map iterates in send order, so the sweep stops at the first one still in time.
   */
  expirePending(nowMs: number, timeoutMs: number): number {
    let expired = 0;
    for (const [opaque, entry] of this.pending) {
      if (nowMs - entry.sentAtMs < timeoutMs) break;
      this.pending.delete(opaque);
      this.timedOutAtMs = nowMs; // before resolving: the retry it starts picks a consumer at once
      entry.reply.resolve(false, 'delivery timeout');
      expired++;
    }
    // Deliveries timing out while over half of maxBufferedBytes sits unread: not reading.
    if (expired > 0 && this.congested)
      this.destroyAsSlow(`deliveries timed out with ${this.socket.writableLength} bytes unread`);
    return expired;
  }

  /**
   * A TX_ACK: settles the check-back with this opaque only if it asked about this message. A
   * producer's own decision carries an opaque it chose, which may equal one of our pending
   * deliveries on the same connection; it must not count as that delivery's ack.
   */
  settleCheckBack(opaque: number, messageId: string): boolean {
    const entry = this.pending.get(opaque);
    if (!entry || entry.checkedId !== messageId.toLowerCase()) return false;
    this.pending.delete(opaque);
    entry.reply.resolve(true);
    return true;
  }

  /** Closes after flushing what is queued (e.g. a CONN_AUTH refusal). */
  close(reason: string): void {
    if (this.closed) return;
    this.hooks.log.info({ remote: this.remote, groupId: this.groupId || undefined, reason }, 'closing connection');
    this.writer.flush();
    this.markClosed();
    this.socket.end();
    this.socket.setTimeout(2000, () => this.socket.destroy());
  }

  /**
   * The socket completed a write within the last `ms`: its peer is reading. Looked at only while
   * over maxBufferedBytes; the first look starts the clock.
   */
  private readWithin(ms: number): boolean {
    const now = this.hooks.nowMs();
    const flushed = this.socket.bytesWritten - this.socket.writableLength;
    if (flushed !== this.flushedSeen) {
      this.flushedSeen = flushed;
      this.flushedAtMs = now;
    }
    return now - this.flushedAtMs < ms;
  }

  /** A consumer that does not read: its unread bytes are dropped with it, its deliveries go elsewhere. */
  private destroyAsSlow(detail: string): void {
    this.hooks.log.warn(
      { remote: this.remote, groupId: this.groupId || undefined, reason: `slow consumer: ${detail}` },
      'closing connection',
    );
    this.destroy();
  }

  destroy(): void {
    this.markClosed();
    this.socket.destroy();
  }

  private onSocketClosed(): void {
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    this.hooks.onClose(this);
    // Its unacked deliveries fail now, so they go to another consumer at once (doc/architecture.md §6).
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reply.resolve(false, 'connection closed');
  }
}
