// A raw-protocol client for tests: speaks bytes on a real socket, no kiteq-ts client logic.
import { connect, type Socket } from 'node:net';
import { CmdType } from '../../protocol/commands';
import { type Frame, FrameDecoder } from '../../protocol/frame-decoder';
import { encodePacket } from '../../protocol/packet-header';
import { encodeConnMeta } from '../../protocol/messages/conn-meta';
import { decodeConnAuthAck, type ConnAuthAck } from '../../protocol/messages/conn-auth-ack';

export class RawClient {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder(64 * 1024 * 1024);
    socket.on('data', (chunk) =>
      decoder.push(chunk, (frame) => {
        const copy = { ...frame, body: Buffer.from(frame.body) };
        const waiter = this.waiters.find((w) => w.match(copy));
        if (waiter) {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          waiter.resolve(copy);
        } else this.frames.push(copy);
      }),
    );
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** The server side of a fake broker's connection (test/support/fake-broker.ts). */
  static wrap(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  /** localAddress: another loopback source (127.0.0.2, ...) to stand for another host */
  static connect(address: string, localAddress?: string): Promise<RawClient> {
    const i = address.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), localAddress }, () =>
        resolve(new RawClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  sendPacket(opaque: number, cmdType: number, body: Uint8Array): void {
    this.write(encodePacket(opaque, cmdType, body));
  }

  /** The next frame matching (already received or arriving within timeoutMs). */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  async handshake(groupId: string, secretKey: string, warmingupSec = 0): Promise<ConnAuthAck> {
    this.sendPacket(1, CmdType.CONN_META, encodeConnMeta({ groupId, secretKey, warmingupSec }));
    const reply = await this.next((f) => f.cmdType === CmdType.CONN_AUTH);
    return decodeConnAuthAck(reply.body);
  }

  /** Resolves when the broker closes the connection; rejects after timeoutMs. */
  closedWithin(timeoutMs: number): Promise<void> {
    return Promise.race([
      this.closed,
      new Promise<void>((_, reject) =>
        setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}
