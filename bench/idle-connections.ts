// Authenticated, idle client connections for `kiteq-bench scale`'s idle dimension: each does the
// CONN_META handshake and then only heartbeats, one every `periodMs` (a KiteQClient's default,
// 10 s), spread evenly over the period; the time from each heartbeat to the broker's reply is
// recorded. Raw sockets, not KiteQClients: 10,000 clients would cost the bench more than the broker.
import { connect, type Socket } from 'node:net';
import { CmdType } from '../protocol/commands';
import { FrameDecoder } from '../protocol/frame-decoder';
import { decodeConnAuthAck } from '../protocol/messages/conn-auth-ack';
import { encodeConnMeta } from '../protocol/messages/conn-meta';
import { encodeHeartBeat } from '../protocol/messages/heartbeat';
import { encodePacket } from '../protocol/packet-header';
import { LatencyRecorder } from './latency';
import { nowMs } from './peers/payload';
import type { LatencySummary } from './result';

interface Idle {
  socket: Socket;
  /** when its outstanding heartbeat went out, 0 when none is */
  sentAt: number;
  opaque: number;
}

const TICK_MS = 10;

export class IdleConnections {
  private readonly conns: Idle[] = [];
  private recorder = new LatencyRecorder();
  private timer: NodeJS.Timeout | null = null;
  private cursor = 0;
  /** heartbeats sent while the previous one of the same connection was unanswered */
  unanswered = 0;
  /** connections the broker closed */
  closed = 0;

  private constructor(private readonly periodMs: number) {}

  /** Opens `count` connections, `parallel` handshakes at a time, then starts their heartbeats. */
  static async open(
    address: string,
    count: number,
    auth: { groupId: string; secretKey: string },
    { parallel = 200, periodMs = 10_000 } = {},
  ): Promise<IdleConnections> {
    const idle = new IdleConnections(periodMs);
    let next = 0;
    try {
      const worker = async (): Promise<void> => {
        while (next < count) {
          next++;
          idle.conns.push(await idle.connectOne(address, auth));
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
    } catch (error) {
      idle.close();
      throw error;
    }
    idle.start();
    return idle;
  }

  get count(): number {
    return this.conns.length;
  }

  /** Heartbeat round trips over the next `ms` (earlier ones forgotten). */
  async measure(ms: number): Promise<LatencySummary> {
    this.recorder = new LatencyRecorder();
    await new Promise((resolve) => setTimeout(resolve, ms)); // the measuring window itself
    return this.recorder.summary();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const conn of this.conns) conn.socket.destroy();
    this.conns.length = 0;
  }

  private connectOne(address: string, auth: { groupId: string; secretKey: string }): Promise<Idle> {
    const i = address.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
      const conn: Idle = { socket, sentAt: 0, opaque: 1 };
      const decoder = new FrameDecoder();
      let authed = false;
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('close', () => {
        if (authed) this.closed++;
        else reject(new Error(`the broker closed an idle connection before its handshake (${this.count} open)`));
      });
      socket.on('data', (chunk) =>
        decoder.push(chunk, (frame) => {
          if (frame.cmdType === CmdType.CONN_AUTH && !authed) {
            const ack = decodeConnAuthAck(frame.body);
            if (!ack.status) return reject(new Error(`handshake refused: ${ack.feedback}`));
            authed = true;
            socket.on('error', () => undefined);
            resolve(conn);
          } else if (frame.cmdType === CmdType.HEARTBEAT && frame.opaque === conn.opaque && conn.sentAt > 0) {
            this.recorder.recordMs(nowMs() - conn.sentAt);
            conn.sentAt = 0;
          }
        }),
      );
      socket.write(encodePacket(conn.opaque, CmdType.CONN_META, encodeConnMeta({ ...auth, warmingupSec: 0 })));
    });
  }

  /** Every TICK_MS, the next slice of connections heartbeats: each once per period. */
  private start(): void {
    if (this.conns.length === 0) return;
    const perTick = this.conns.length / (this.periodMs / TICK_MS);
    let owed = 0;
    this.timer = setInterval(() => {
      owed += perTick;
      const body = encodeHeartBeat({ version: Math.floor(Date.now() / 1000) });
      for (; owed >= 1; owed--) {
        const conn = this.conns[this.cursor];
        this.cursor = (this.cursor + 1) % this.conns.length;
        if (conn.sentAt > 0) this.unanswered++;
        conn.opaque++;
        conn.sentAt = nowMs();
        conn.socket.write(encodePacket(conn.opaque, CmdType.HEARTBEAT, body));
      }
    }, TICK_MS);
  }
}
