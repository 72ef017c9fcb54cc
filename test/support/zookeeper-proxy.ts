// A TCP proxy in front of a ZooKeeper server: cut() drops every connection and refuses new ones
// (a network partition), restore() lets them through again. ZooKeeper keeps running, so it expires
// a cut-off session on its own clock: a deterministic way to force session expiry in tests.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ZooKeeperProxy {
  readonly port: number;
  /** 127.0.0.1:<proxy port> */
  readonly connectString: string;
  /** drops every proxied connection; new ones are closed at once until restore() */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startZooKeeperProxy(targetPort: number): Promise<ZooKeeperProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    cut() {
      open = false;
      dropAll();
    },
    restore() {
      open = true;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
