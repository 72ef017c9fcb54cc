// One TCP connection from a client to one broker: the CONN_META handshake, heartbeats, and the
// requests of THIS connection by opaque (doc/protocol.md). Server-initiated packets (deliveries,
// tx check-backs) go to the handlers; the client answers them with the server's opaque. Anything
// that throws while handling the broker's bytes closes this connection only (doc/client.md).
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { CmdType, isReplyForClient } from '../protocol/commands';
import { type Frame, FrameDecoder } from '../protocol/frame-decoder';
import { FrameWriter, type PacketBody } from '../protocol/frame-writer';
import { decodeConnAuthAck } from '../protocol/messages/conn-auth-ack';
import { encodeConnMeta } from '../protocol/messages/conn-meta';
import { type DeliverAck, deliverAckSize, writeDeliverAck } from '../protocol/messages/deliver-ack';
import { encodeHeartBeat } from '../protocol/messages/heartbeat';
import { writePositiveAck } from './ack-suffixes';
import { BrokerRejectedError, ConnectionClosedError, ProtocolViolationError, TimeoutError } from './errors';

/** TLS to the broker (broker started with --tls-cert/--tls-key): node's tls.connect options. */
export type ClientTlsOptions = Pick<
  TlsConnectionOptions,
  'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername' | 'minVersion'
>;

export interface ConnectionOptions {
  /** connect over TLS with these options; absent = plain TCP */
  tls?: ClientTlsOptions;
  groupId: string;
  secretKey: string;
  warmingupSec: number;
  requestTimeoutMs: number;
  heartbeatMs: number;
  connectTimeoutMs: number;
  /** a delivery or a tx check-back from the broker; a throw (an undecodable body) closes the connection */
  onServerRequest: (connection: BrokerConnection, frame: Frame) => void;
  onClose: (connection: BrokerConnection, error?: Error) => void;
}

/**
 * What waits for the reply of one request: a publish (client/publish.ts, one object per send and
 * no promise of its own) or a promise of request(). Called from the data handler: must not throw.
 */
export interface ReplyWaiter {
  /** set when sent: requests time out in send order */
  sentAtMs: number;
  /** named in a TimeoutError */
  readonly what: string;
  replied(frame: Frame): void;
  failed(error: Error): void;
}

/** request()'s waiter: settles its promise. */
class PromiseWaiter implements ReplyWaiter {
  sentAtMs = 0;
  constructor(
    readonly what: string,
    private readonly resolve: (frame: Frame) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  replied(frame: Frame): void {
    this.resolve(frame);
  }

  failed(error: Error): void {
    this.reject(error);
  }
}

const MAX_OPAQUE = 0x7fffffff;

export class BrokerConnection {
  private socket: Socket | null = null;
  private writer: FrameWriter | null = null;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly pending = new Map<number, ReplyWaiter>();
  private nextOpaque = 1;
  private sweepTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  ready = false;
  closed = false;

  constructor(
    readonly address: string,
    private readonly options: ConnectionOptions,
  ) {}

  /** Connects and authenticates; rejects BrokerRejectedError (not retriable) on a wrong key. */
  async connect(): Promise<void> {
    const [host, port] = [
      this.address.slice(0, this.address.lastIndexOf(':')),
      Number(this.address.slice(this.address.lastIndexOf(':') + 1)),
    ];
    const tls = this.options.tls;
    // SNI takes a host name only; for an IP address the certificate is matched against its IP SAN.
    const socket = tls
      ? tlsConnect({ host, port, ...tls, servername: tls.servername ?? (isIP(host) ? undefined : host) })
      : tcpConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.writer = new FrameWriter(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TimeoutError(`connect to ${this.address}`, this.options.connectTimeoutMs));
      }, this.options.connectTimeoutMs);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new ConnectionClosedError(`connect to ${this.address}: ${error.message}`));
      });
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and carries the outcome
    socket.on('close', () => this.shutdown(new ConnectionClosedError(`connection to ${this.address} closed`)));
    this.sweepTimer = setInterval(() => this.expireRequests(), 100);
    const { groupId, secretKey, warmingupSec } = this.options;
    const reply = await this.request(
      CmdType.CONN_META,
      encodeConnMeta({ groupId, secretKey, warmingupSec }),
      'CONN_META',
    );
    let auth;
    try {
      auth = decodeConnAuthAck(reply.body);
    } catch (error) {
      throw this.fail(error);
    }
    if (!auth.status) {
      const refused = new BrokerRejectedError(auth.feedback || 'authentication failed', false, this.address);
      this.shutdown(refused);
      throw refused;
    }
    this.ready = true;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (error) {
      this.fail(error);
    }
  }

  /** The broker broke the protocol (`cause`): close at once, reject every pending request. */
  fail(cause: unknown): ProtocolViolationError {
    const error = cause instanceof ProtocolViolationError ? cause : new ProtocolViolationError(this.address, cause);
    this.shutdown(error);
    this.socket?.destroy();
    return error;
  }

  private onFrame(frame: Frame): void {
    if (isReplyForClient(frame.cmdType)) {
      const request = this.pending.get(frame.opaque);
      if (!request) return; // a reply after its timeout
      this.pending.delete(frame.opaque);
      request.replied(frame);
      return;
    }
    this.options.onServerRequest(this, frame);
  }

  /**
   * Sends a request and resolves with the reply frame carrying the same opaque. A PacketBody (a
   * publish) is encoded straight into the outgoing buffer.
   */
  request(cmdType: number, body: Uint8Array | PacketBody, what: string): Promise<Frame> {
    if (this.closed || !this.writer)
      return Promise.reject(new ConnectionClosedError(`not connected to ${this.address}`));
    return new Promise<Frame>((resolve, reject) => {
      const waiter = new PromiseWaiter(what, resolve, reject);
      const opaque = this.register(waiter);
      if (body instanceof Uint8Array) this.writer!.send(opaque, cmdType, body);
      else this.writer!.sendBody(opaque, cmdType, body);
    });
  }

  /**
   * request() with the reply going to `waiter` rather than a promise (a publish: client/publish.ts).
   * Returns false, `waiter` untouched, when not connected.
   */
  requestTo(cmdType: number, body: PacketBody, waiter: ReplyWaiter): boolean {
    if (this.closed || !this.writer) return false;
    this.writer.sendBody(this.register(waiter), cmdType, body);
    return true;
  }

  private register(waiter: ReplyWaiter): number {
    const opaque = this.nextOpaque;
    this.nextOpaque = opaque >= MAX_OPAQUE ? 1 : opaque + 1;
    waiter.sentAtMs = Date.now();
    this.pending.set(opaque, waiter);
    return opaque;
  }

  /** A packet that needs no reply (DeliverAck, a TX_ACK decision or check-back answer). */
  send(opaque: number, cmdType: number, body: Uint8Array): void {
    if (!this.closed) this.writer?.send(opaque, cmdType, body);
  }

  /** A DeliverAck, encoded straight into the outgoing buffer: one per delivery, no buffer of its own. */
  sendDeliverAck(opaque: number, ack: DeliverAck): void {
    if (this.closed || !this.writer) return;
    const size = deliverAckSize(ack);
    const at = this.writer.begin(opaque, CmdType.DELIVER_ACK, size);
    if (at < 0) return;
    writeDeliverAck(this.writer.target, at, size, ack);
    this.writer.end();
  }

  /** A positive DeliverAck: the messageId, then the rest as encoded once (client/ack-suffixes.ts). */
  sendPositiveAck(opaque: number, messageId: string, suffix: Uint8Array): void {
    if (!this.closed && this.writer) writePositiveAck(this.writer, opaque, messageId, suffix);
  }

  /** A fresh opaque for a request sent with send() (a TX_ACK decision). */
  allocOpaque(): number {
    const opaque = this.nextOpaque;
    this.nextOpaque = opaque >= MAX_OPAQUE ? 1 : opaque + 1;
    return opaque;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private heartbeat(): void {
    this.request(CmdType.HEARTBEAT, encodeHeartBeat({ version: Math.floor(Date.now() / 1000) }), 'HEARTBEAT').catch(
      () => undefined,
    );
  }

  /** Requests time out in send order, so the sweep stops at the first one still in time. */
  private expireRequests(): void {
    const now = Date.now();
    for (const [opaque, request] of this.pending) {
      if (now - request.sentAtMs < this.options.requestTimeoutMs) break;
      this.pending.delete(opaque);
      request.failed(new TimeoutError(`${request.what} to ${this.address}`, this.options.requestTimeoutMs));
    }
  }

  private shutdown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.writer?.close();
    const failure = error ?? new ConnectionClosedError(`connection to ${this.address} closed`);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.failed(failure);
    this.options.onClose(this, error);
  }

  close(): void {
    this.writer?.flush();
    this.shutdown();
    const socket = this.socket;
    socket?.end();
    if (socket) setTimeout(() => socket.destroy(), 1000).unref();
  }
}
