// The client listener (doc/architecture.md §1): TCP or TLS (server/tls.ts), the connection cap,
// and the bytes its sockets moved (/stat's network figures). Past the cap node closes a new socket
// before reading it (net.Server.maxConnections); we log that once per burst (doc/security.md).
import type { Server, Socket } from 'node:net';
import { RefusalTally } from './limits';
import type { Logger } from './logger';
import { createClientListener, tlsFilesFrom } from './tls';

export interface ListenerConfig {
  /** host:port; a port of 0 gets a free one */
  bind: string;
  maxConnections: number;
  /** TLS handshakes not done within this are dropped */
  authTimeoutMs: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export interface ClientListenerDeps {
  config: ListenerConfig;
  log: Logger;
  /** a connection accepted while the listener is open */
  onSocket: (socket: Socket) => void;
}

export interface NetworkTotals {
  readBytes: number;
  writeBytes: number;
}

export class ClientListener {
  private server: Server | null = null;
  private accepting = false;
  private boundAddress = '';
  /** open sockets and their bytes as last counted into `counted` */
  private readonly sockets = new Map<Socket, NetworkTotals>();
  /** sockets that read since the last networkTotals(): only they are looked at (10,000 idle ones are not) */
  private readonly active = new Set<Socket>();
  private readonly counted: NetworkTotals = { readBytes: 0, writeBytes: 0 };
  private readonly refusals = new RefusalTally();

  constructor(private readonly deps: ClientListenerDeps) {}

  /** The address actually listened on ('' before listen()). */
  get address(): string {
    return this.boundAddress;
  }

  /** listen() was called: connections are or will soon be accepted */
  get opened(): boolean {
    return this.server !== null;
  }

  listen(): Promise<void> {
    const { config, log } = this.deps;
    const [host, port] = splitHostPort(config.bind);
    const server = createClientListener(tlsFilesFrom(config), {
      onSocket: (socket) => this.onConnection(socket),
      onTlsError: (error, remote) =>
        log.warn({ remote, err: error.message }, 'TLS handshake failed: closing connection'),
      handshakeTimeoutMs: config.authTimeoutMs,
    });
    server.maxConnections = config.maxConnections;
    server.on('drop', (data) => {
      if (this.refusals.refused())
        log.warn(
          { remote: data?.remoteAddress, maxConnections: config.maxConnections },
          'connection refused: max connections reached',
        );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => log.error({ err: error }, 'listener error'));
        const addr = server.address();
        this.boundAddress = typeof addr === 'object' && addr ? `${host}:${addr.port}` : config.bind;
        this.accepting = true;
        resolve();
      });
    });
  }

  /** New connections are closed at once from now on; open ones are left to their owner. */
  close(): void {
    this.accepting = false;
    this.server?.close();
  }

  /** One line for the sockets refused at the cap since the last call (the broker's 1 s sweep). */
  logRefusals(sessions: number): void {
    const refused = this.refusals.drain();
    if (refused > 0)
      this.deps.log.warn(
        { refused, maxConnections: this.deps.config.maxConnections, sessions },
        'connections refused in the last second: max connections reached',
      );
  }

  /**
   * Bytes read and written by every client socket since start, looking only at sockets that read
   * since the last call: every byte read is counted; a byte written counts once its socket next
   * reads (an ack, a heartbeat) or closes.
   */
  networkTotals(): NetworkTotals {
    for (const socket of this.active) this.count(socket);
    this.active.clear();
    return { ...this.counted };
  }

  private count(socket: Socket): void {
    const last = this.sockets.get(socket);
    if (!last) return;
    const { bytesRead, bytesWritten } = socket;
    this.counted.readBytes += bytesRead - last.readBytes;
    this.counted.writeBytes += bytesWritten - last.writeBytes;
    last.readBytes = bytesRead;
    last.writeBytes = bytesWritten;
  }

  private onConnection(socket: Socket): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    this.deps.onSocket(socket);
    this.sockets.set(socket, { readBytes: 0, writeBytes: 0 });
    socket.on('data', () => this.active.add(socket));
    socket.once('close', () => {
      this.count(socket);
      this.sockets.delete(socket);
      this.active.delete(socket);
    });
  }
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
