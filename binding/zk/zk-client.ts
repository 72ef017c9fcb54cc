// One ZooKeeper session as promises: the only file that touches node-zookeeper-client's callbacks.
// The library reconnects within a session on its own (and re-sets watches); after 'expired' the
// client is dead and zk-connection.ts makes a new one.
import * as zookeeper from 'node-zookeeper-client';

export type ZkWatcher = (event: zookeeper.Event) => void;

export const CreateMode = zookeeper.CreateMode;

export interface ZkClientOptions {
  connectString: string;
  sessionTimeoutMs: number;
  /** connect() of the library never fails by itself; we give up after this long */
  connectTimeoutMs: number;
}

const errorCode = (error: unknown): number | undefined =>
  typeof (error as { getCode?: unknown })?.getCode === 'function'
    ? (error as zookeeper.Exception).getCode()
    : undefined;

export const isNoNode = (error: unknown): boolean => errorCode(error) === zookeeper.Exception.NO_NODE;
export const isNodeExists = (error: unknown): boolean => errorCode(error) === zookeeper.Exception.NODE_EXISTS;
export const isNotEmpty = (error: unknown): boolean => errorCode(error) === zookeeper.Exception.NOT_EMPTY;
export const isSessionExpired = (error: unknown): boolean => errorCode(error) === zookeeper.Exception.SESSION_EXPIRED;
/** Worth retrying on this or the next session: the operation may not have reached the server. */
export const isConnectionProblem = (error: unknown): boolean =>
  [
    zookeeper.Exception.CONNECTION_LOSS,
    zookeeper.Exception.SESSION_EXPIRED,
    zookeeper.Exception.OPERATION_TIMEOUT,
  ].includes(errorCode(error) ?? 0);

/** Runs one callback-style call as a promise; the library's errors keep their code and gain the path. */
function call<T>(
  path: string,
  start: (done: (error: Error | zookeeper.Exception | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error) {
        if (error instanceof Error) return reject(error);
        const wrapped = Object.assign(new Error(`${error.toString()} (${path})`), {
          getCode: () => error.getCode(),
          path,
        });
        return reject(wrapped);
      }
      resolve(value as T);
    });
  });
}

interface ConnectionManagerInternals {
  socket?: { destroy(): void };
}

export class ZkClient {
  private stallTimer: NodeJS.Timeout | undefined;
  private closing = false;

  private constructor(
    readonly raw: zookeeper.Client,
    readonly connectString: string,
    stallMs: number,
  ) {
    this.guardStalls(stallMs);
  }

  /** Opens a session; rejects (and closes the client) if none is established within connectTimeoutMs. */
  static connect(options: ZkClientOptions): Promise<ZkClient> {
    const raw = zookeeper.createClient(options.connectString, {
      sessionTimeout: options.sessionTimeoutMs,
      spinDelay: 200,
      retries: 0,
    });
    // like the Java client: each server gets sessionTimeout / servers to answer before we try the next
    const servers = options.connectString.split('/')[0].split(',').length;
    const client = new ZkClient(
      raw,
      options.connectString,
      Math.max(1000, Math.floor(options.sessionTimeoutMs / servers)),
    );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        raw.removeListener('connected', onConnected);
        void client.close();
        reject(new Error(`no ZooKeeper session with ${options.connectString} within ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve(client);
      };
      raw.once('connected', onConnected);
      raw.connect();
    });
  }

  get sessionId(): Buffer {
    return this.raw.getSessionId();
  }

  get sessionPassword(): Buffer {
    return this.raw.getSessionPassword();
  }

  get isConnected(): boolean {
    return this.raw.getState() === zookeeper.State.SYNC_CONNECTED;
  }

  /** Creates a node; empty data is an empty Buffer, never null. */
  create(path: string, data: Buffer = Buffer.alloc(0), mode: number = CreateMode.PERSISTENT): Promise<string> {
    return call(path, (done) => this.raw.create(path, data, mode, done));
  }

  /** Creates the persistent node and its missing parents, without data. */
  mkdirp(path: string): Promise<string> {
    return call(path, (done) => this.raw.mkdirp(path, done));
  }

  /** The node's stat, or undefined when it does not exist; the watcher fires on create/delete/data change. */
  exists(path: string, watcher?: ZkWatcher): Promise<zookeeper.Stat | undefined> {
    return call<zookeeper.Stat | null>(path, (done) =>
      watcher ? this.raw.exists(path, watcher, done) : this.raw.exists(path, done),
    ).then((stat) => stat ?? undefined);
  }

  getChildren(path: string, watcher?: ZkWatcher): Promise<string[]> {
    return call(path, (done) =>
      watcher ? this.raw.getChildren(path, watcher, done) : this.raw.getChildren(path, done),
    );
  }

  /** The node's data (an empty Buffer for none). */
  getData(path: string, watcher?: ZkWatcher): Promise<Buffer> {
    return call<Buffer | null>(path, (done) =>
      watcher ? this.raw.getData(path, watcher, done) : this.raw.getData(path, done),
    ).then((data) => data ?? Buffer.alloc(0));
  }

  setData(path: string, data: Buffer): Promise<zookeeper.Stat> {
    return call(path, (done) => this.raw.setData(path, data, -1, done));
  }

  remove(path: string): Promise<void> {
    return call(path, (done) => this.raw.remove(path, -1, done));
  }

  /**
   * The library's connect timeout stops once TCP connects; a server that accepts but never answers
   * the session handshake (stopped, starting, partitioned behind a proxy) would hold us forever.
   * While not connected, drop the socket every stallMs so the library tries the next server.
   */
  private guardStalls(stallMs: number): void {
    const manager = (this.raw as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
    const arm = () => {
      clearTimeout(this.stallTimer);
      this.stallTimer = setTimeout(onStall, stallMs);
      this.stallTimer.unref();
    };
    const onStall = () => {
      if (this.closing || this.isConnected || this.raw.getState() === zookeeper.State.EXPIRED) return;
      manager?.socket?.destroy();
      arm();
    };
    this.raw.on('state', (state: zookeeper.State) => {
      if (state === zookeeper.State.DISCONNECTED) arm();
      else clearTimeout(this.stallTimer);
    });
    arm();
  }

  /** Closes the session (its ephemeral nodes go at once). Gives up waiting for the server after 1 s. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.stallTimer);
    const state = this.raw.getState();
    if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY) {
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.raw.once('disconnected', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.raw.close();
      await closed;
    } else {
      this.raw.close();
    }
    // a paused or unreachable server never answers CLOSE_SESSION: drop the socket so nothing reconnects
    const manager = (this.raw as unknown as { connectionManager?: { socket?: { destroy(): void } } }).connectionManager;
    manager?.socket?.destroy();
  }
}
