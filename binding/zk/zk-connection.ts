// The registry's link to ZooKeeper across sessions (doc/architecture.md §3 "on session expiry, open a new
// session and re-create ephemeral nodes and watches"). Within a session the library reconnects
// by itself; after 'expired' we open a new session (retrying until it works or we are closed)
// and run every onNewSession hook: the registry re-creates its ephemerals, watches re-read.
import { ZkClient, isConnectionProblem, isSessionExpired, type ZkClientOptions } from './zk-client';
import type { ZkLogger } from './zk-logger';

export type NewSessionHook = (client: ZkClient) => Promise<void> | void;

export class RegistryClosedError extends Error {
  constructor() {
    super('zk registry is closed');
    this.name = 'RegistryClosedError';
  }
}

const RECONNECT_DELAY_MS = 500;
const RECONNECT_DELAY_MAX_MS = 5000;

export class ZkConnection {
  private client: ZkClient | undefined;
  private closed = false;
  private readonly hooks = new Set<NewSessionHook>();
  /** resolves when the current client is connected; replaced while we are waiting for a new session */
  private usable: Promise<ZkClient> | undefined;
  private sessionsOpened = 0;

  constructor(
    private readonly options: ZkClientOptions,
    private readonly log: ZkLogger,
  ) {}

  /** Opens the first session; rejects when ZooKeeper cannot be reached within connectTimeoutMs. */
  async start(): Promise<void> {
    const client = await ZkClient.connect(this.options);
    this.adopt(client);
    this.log.info(
      { connectString: this.options.connectString, sessionId: client.sessionId.toString('hex') },
      'zk session opened',
    );
  }

  /** The connected client of the current session (waits through disconnects and expiry). */
  current(): Promise<ZkClient> {
    if (this.closed) return Promise.reject(new RegistryClosedError());
    if (!this.client) return Promise.reject(new Error('zk connection not started'));
    if (this.client.isConnected) return Promise.resolve(this.client);
    return this.usable ?? this.waitConnected(this.client);
  }

  /** How many sessions were opened so far (1 until the first expiry). */
  get sessionCount(): number {
    return this.sessionsOpened;
  }

  /** Called with the new client after every session that replaces an expired one. */
  onNewSession(hook: NewSessionHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /**
   * Runs an idempotent operation; connection loss and session expiry wait for the connection (or a
   * new session) and run it again, so callers only see real answers (NO_NODE…) or RegistryClosedError.
   */
  async run<T>(operation: (client: ZkClient) => Promise<T>): Promise<T> {
    for (;;) {
      const client = await this.current();
      try {
        return await operation(client);
      } catch (error) {
        if (this.closed) throw new RegistryClosedError();
        if (!isConnectionProblem(error)) throw error;
        this.log.debug?.({ err: (error as Error).message }, 'zk operation interrupted; retrying when connected');
        if (!isSessionExpired(error) && client === this.client && client.isConnected) {
          // OPERATION_TIMEOUT on a live connection: do not spin
          await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
        }
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hooks.clear();
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  private adopt(client: ZkClient): void {
    this.client = client;
    this.usable = undefined;
    this.sessionsOpened += 1;
    client.raw.on('disconnected', () => {
      if (this.client === client && !this.closed)
        this.log.warn(
          { connectString: this.options.connectString },
          'zk disconnected; the library reconnects within the session',
        );
    });
    client.raw.once('expired', () => {
      if (this.client !== client || this.closed) return;
      this.log.warn({ sessionId: client.sessionId.toString('hex') }, 'zk session expired; opening a new session');
      this.usable = this.renewSession();
      this.usable.catch(() => undefined);
    });
  }

  private waitConnected(client: ZkClient): Promise<ZkClient> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) return reject(new RegistryClosedError());
        if (this.client !== client) return resolve(this.current());
        if (client.isConnected) return resolve(client);
        setTimeout(check, 50);
      };
      check();
    });
  }

  /** A new session after expiry: retry with backoff until it works; then re-create state through the hooks. */
  private async renewSession(): Promise<ZkClient> {
    const old = this.client;
    void old?.close();
    let delayMs = RECONNECT_DELAY_MS;
    for (;;) {
      if (this.closed) throw new RegistryClosedError();
      try {
        const client = await ZkClient.connect(this.options);
        if (this.closed) {
          await client.close();
          throw new RegistryClosedError();
        }
        this.adopt(client);
        this.log.info(
          { sessionId: client.sessionId.toString('hex') },
          'zk new session after expiry; re-creating ephemeral nodes and watches',
        );
        for (const hook of [...this.hooks]) {
          try {
            await hook(client);
          } catch (error) {
            this.log.warn({ err: (error as Error).message }, 'zk re-registration step failed after new session');
          }
        }
        return client;
      } catch (error) {
        if (error instanceof RegistryClosedError) throw error;
        this.log.warn({ err: (error as Error).message, retryInMs: delayMs }, 'zk new session failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref()); // never what keeps a process alive
        delayMs = Math.min(delayMs * 2, RECONNECT_DELAY_MAX_MS);
      }
    }
  }
}
