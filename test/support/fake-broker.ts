// A fake broker: a real TCP server speaking the wire protocol, scripted by the test, for what a
// real broker never sends (a truncated delivery) or to give two brokers different answers. It
// answers CONN_META itself (accept or refuse) and hands each connection to the test.
import { createServer, type Server } from 'node:net';
import { CmdType } from '../../protocol/commands';
import { encodeConnAuthAck } from '../../protocol/messages/conn-auth-ack';
import { decodeConnMeta } from '../../protocol/messages/conn-meta';
import { RawClient } from './raw-client';

export interface FakeBrokerOptions {
  /** the answer to a handshake: null accepts, a string refuses with that feedback */
  refuse?: (groupId: string, secretKey: string) => string | null;
}

export class FakeBroker {
  /** every connection that completed the handshake, in order */
  readonly connections: RawClient[] = [];
  /** handshakes seen, accepted or refused */
  handshakes = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const fake = new FakeBroker(server, `127.0.0.1:${port}`);
    server.on('connection', (socket) => void fake.onConnection(RawClient.wrap(socket), options));
    return fake;
  }

  private async onConnection(connection: RawClient, options: FakeBrokerOptions): Promise<void> {
    const meta = await connection.next((f) => f.cmdType === CmdType.CONN_META, 10_000).catch(() => null);
    if (!meta) return connection.close();
    const { groupId, secretKey } = decodeConnMeta(meta.body);
    this.handshakes++;
    const refusal = options.refuse?.(groupId, secretKey) ?? null;
    connection.sendPacket(
      meta.opaque,
      CmdType.CONN_AUTH,
      encodeConnAuthAck({ status: refusal === null, feedback: refusal ?? '' }),
    );
    if (refusal !== null) return void connection.socket.end();
    this.connections.push(connection);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The n-th (0-based) accepted connection, now or when it arrives; rejects after timeoutMs. */
  connection(n: number, timeoutMs: number): Promise<RawClient> {
    if (this.connections.length > n) return Promise.resolve(this.connections[n]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `fake broker ${this.address}: ${this.connections.length} connections, connection #${n} not within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const check = () => {
        if (this.connections.length <= n) return void this.waiters.push(check);
        clearTimeout(timer);
        resolve(this.connections[n]);
      };
      this.waiters.push(check);
    });
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
