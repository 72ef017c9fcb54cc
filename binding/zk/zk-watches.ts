// Watches that stay alive: ZooKeeper watches fire once, so every fire re-reads and re-registers;
// a new session (after expiry) re-reads too. Reads are serialised per watch (a fire during a read
// schedules one more read). Connection trouble never produces a report: zk-connection.ts retries
// the read, so listeners only ever see what ZooKeeper really holds (doc/architecture.md §3).
import type { ZkConnection } from './zk-connection';
import { RegistryClosedError } from './zk-connection';
import { isNoNode, type ZkClient } from './zk-client';
import type { ZkLogger } from './zk-logger';

abstract class RefreshingWatch {
  private reading = false;
  private again = false;
  private stopped = false;
  private firstRead: Promise<void> | undefined;
  private readonly unhook: () => void;
  /** stable identity: the library then keeps one watcher per path, not one per read */
  protected readonly onEvent = (): void => this.refresh();

  constructor(
    protected readonly connection: ZkConnection,
    readonly path: string,
    protected readonly log: ZkLogger,
  ) {
    this.unhook = connection.onNewSession(() => this.refresh());
  }

  /** Reads once (and watches); resolves after the first read has been reported. */
  start(): Promise<void> {
    this.firstRead ??= this.readLoop();
    return this.firstRead;
  }

  stop(): void {
    this.stopped = true;
    this.unhook();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  refresh(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.readLoop();
  }

  /** Reads with a watcher, reports the result; runs again while fires arrived meanwhile. */
  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        if (this.stopped) return;
        try {
          await this.connection.run((client) => this.readAndReport(client));
        } catch (error) {
          if (error instanceof RegistryClosedError || this.stopped) return;
          // a bug in a listener or an unexpected ZooKeeper answer: log, keep the last report
          this.log.warn(
            { path: this.path, err: (error as Error).message },
            'zk watch read failed; keeping the last known state',
          );
        }
      } while (this.again);
    } finally {
      this.reading = false;
    }
  }

  protected abstract readAndReport(client: ZkClient): Promise<void>;
}

/** Follows the children of a node; a missing node counts as no children (and is watched for creation). */
export class ChildrenWatch extends RefreshingWatch {
  constructor(
    connection: ZkConnection,
    path: string,
    log: ZkLogger,
    private readonly onChildren: (children: string[]) => Promise<void> | void,
  ) {
    super(connection, path, log);
  }

  protected async readAndReport(client: ZkClient): Promise<void> {
    let children: string[];
    try {
      children = await client.getChildren(this.path, this.onEvent);
    } catch (error) {
      if (!isNoNode(error)) throw error;
      // not there (yet): watch for its creation; if it appeared meanwhile, read again
      if (await client.exists(this.path, this.onEvent)) return this.refresh();
      children = [];
    }
    if (this.isStopped) return;
    await this.onChildren([...children].sort());
  }
}

/** Follows the data of one node: reports its data, or undefined once it is deleted (and watches for re-creation). */
export class DataWatch extends RefreshingWatch {
  constructor(
    connection: ZkConnection,
    path: string,
    log: ZkLogger,
    private readonly onData: (data: Buffer | undefined) => Promise<void> | void,
  ) {
    super(connection, path, log);
  }

  protected async readAndReport(client: ZkClient): Promise<void> {
    let data: Buffer | undefined;
    try {
      data = await client.getData(this.path, this.onEvent);
    } catch (error) {
      if (!isNoNode(error)) throw error;
      if (await client.exists(this.path, this.onEvent)) return this.refresh();
      data = undefined;
    }
    if (this.isStopped) return;
    await this.onData(data);
  }
}
