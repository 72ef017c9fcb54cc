// A fresh set of MariaDB databases per suite (doc/architecture.md §11): the real server on 127.0.0.1:3306 (root, no
// password; `bash build.sh` installs and starts it), a random prefix `kiteq_test_<rand>` so suites
// never share data, and every `<prefix>_*` database dropped afterwards.
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';

export const MARIADB_HOST = '127.0.0.1';
export const MARIADB_PORT = 3306;

export interface TestDatabase {
  /** the `db=` value: shards are `<db>_0`.. */
  db: string;
  /** a mysql:// store URI on this database set; extra params override the defaults */
  uri(params?: Record<string, string | number>, hostPort?: string): string;
  /** an admin connection (root, no default database) for assertions */
  sql: Connection;
  /** drops every `<db>_*` database and closes the admin connection */
  drop(): Promise<void>;
}

export async function connectMariaDb(): Promise<Connection> {
  try {
    return await createConnection({
      host: MARIADB_HOST,
      port: MARIADB_PORT,
      user: 'root',
      password: '',
      connectTimeout: 3000,
    });
  } catch (error) {
    throw new Error(
      `MariaDB is not reachable on ${MARIADB_HOST}:${MARIADB_PORT} as root without a password ` +
        `(${(error as Error).message}). Run \`bash build.sh\` to install and start it.`,
      { cause: error },
    );
  }
}

/** Databases named `<db>_<n>` for a new random prefix; nothing is created until a store does. */
export async function freshTestDatabase(): Promise<TestDatabase> {
  const sql = await connectMariaDb();
  const db = `kiteq_test_${randomBytes(4).toString('hex')}`;
  return {
    db,
    sql,
    uri(params = {}, hostPort = `${MARIADB_HOST}:${MARIADB_PORT}`) {
      const query = new URLSearchParams({ db, username: 'root', password: '', shardnum: '4' });
      for (const [key, value] of Object.entries(params)) query.set(key, String(value));
      return `mysql://${hostPort}?${query.toString()}`;
    },
    async drop() {
      const [rows] = await sql.query(
        'SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?',
        [`${db}\\_%`],
      );
      for (const { name } of rows as { name: string }[]) await sql.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await sql.end();
    },
  };
}

/** Mocha hooks: a fresh database set before the suite, dropped after it. */
export function withTestDatabase(): { current: TestDatabase } {
  const holder = {} as { current: TestDatabase };
  before(async function () {
    this.timeout(20_000);
    holder.current = await freshTestDatabase();
  });
  after(async function () {
    this.timeout(20_000);
    await holder.current?.drop();
  });
  return holder;
}

/**
 * A TCP proxy in front of MariaDB that a test can take down, bring back or turn into a black hole
 * (connections accepted, nothing answered), so a store sees an outage without the shared server
 * being stopped.
 */
export class MariaDbProxy {
  private server: import('node:net').Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private blackHole = false;
  private pipes: { client: import('node:net').Socket; upstream: import('node:net').Socket }[] = [];

  private constructor(public port: number) {}

  static async start(): Promise<MariaDbProxy> {
    const proxy = new MariaDbProxy(0);
    await proxy.listen();
    return proxy;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Accepts connections again, forwarding (or swallowing them, when blackHole). */
  async listen(options: { blackHole?: boolean } = {}): Promise<void> {
    const net = await import('node:net');
    this.blackHole = options.blackHole ?? false;
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.blackHole) return;
      const upstream = net.connect(MARIADB_PORT, MARIADB_HOST);
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      this.pipes.push({ client, upstream });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as import('node:net').AddressInfo).port;
    this.server = server;
  }

  /** Open connections stop carrying bytes and new ones are swallowed: a server that hangs. */
  freeze(): void {
    this.blackHole = true;
    for (const { client, upstream } of this.pipes.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Stops listening and cuts every open connection: the store sees a dead server. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pipes = [];
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
