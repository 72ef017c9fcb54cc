// A lock for broker takeover (doc/architecture.md §9): an ephemeral node /kiteq/locks/<name>. The holder loses
// it when its session ends (crash, expiry) or the node is deleted; whoever creates it next holds it.
import type { ZkConnection } from './zk-connection';
import { CreateMode, isNoNode, isNodeExists, type ZkClient } from './zk-client';
import type { ZkLogger } from './zk-logger';
import { removeIfExists } from './zk-nodes';
import { checkSegment, lockPath } from './zk-paths';

export interface ZkLock {
  readonly path: string;
  /** false once released or lost */
  readonly held: boolean;
  /** called once if the lock is lost while held (session expired, node deleted) */
  onLost(listener: () => void): void;
  release(): Promise<void>;
}

/** Takes the lock if it is free; null when another session holds it. `owner` is written as the node's data. */
export async function tryLock(
  connection: ZkConnection,
  name: string,
  owner: string,
  log: ZkLogger,
): Promise<ZkLock | null> {
  checkSegment('lock name', name);
  const path = lockPath(name);
  const acquired = await connection.run(async (client) => {
    try {
      await client.create(path, Buffer.from(owner, 'utf8'), CreateMode.EPHEMERAL);
      return client;
    } catch (error) {
      if (isNoNode(error)) {
        await client.mkdirp(path.slice(0, path.lastIndexOf('/')));
        return tryOnce(client, path, owner);
      }
      if (!isNodeExists(error)) throw error;
      // a create that reached the server before a connection loss: the node is already ours
      const stat = await client.exists(path);
      return stat?.ephemeralOwner.equals(client.sessionId) ? client : null;
    }
  });
  if (!acquired) return null;
  return new HeldLock(connection, acquired, path, log);
}

async function tryOnce(client: ZkClient, path: string, owner: string): Promise<ZkClient | null> {
  try {
    await client.create(path, Buffer.from(owner, 'utf8'), CreateMode.EPHEMERAL);
    return client;
  } catch (error) {
    if (isNodeExists(error)) return null;
    throw error;
  }
}

class HeldLock implements ZkLock {
  private isHeld = true;
  private readonly listeners: (() => void)[] = [];
  private readonly unhook: () => void;

  constructor(
    private readonly connection: ZkConnection,
    private readonly client: ZkClient,
    readonly path: string,
    private readonly log: ZkLogger,
  ) {
    // a new session means the old one (and its ephemeral lock node) is gone
    this.unhook = connection.onNewSession(() => this.lose('zk session expired'));
    void this.watchNode();
  }

  get held(): boolean {
    return this.isHeld;
  }

  onLost(listener: () => void): void {
    this.listeners.push(listener);
  }

  async release(): Promise<void> {
    if (!this.isHeld) return;
    this.isHeld = false;
    this.unhook();
    if (this.client.isConnected) await removeIfExists(this.client, this.path);
  }

  private async watchNode(): Promise<void> {
    try {
      const stat = await this.client.exists(this.path, () => void this.watchNode());
      if (!stat || !stat.ephemeralOwner.equals(this.client.sessionId)) this.lose('lock node deleted');
    } catch {
      // connection trouble: the session hook or the next watch decides
    }
  }

  private lose(reason: string): void {
    if (!this.isHeld) return;
    this.isHeld = false;
    this.unhook();
    this.log.warn({ path: this.path, reason }, 'zk lock lost');
    for (const listener of this.listeners) listener();
  }
}
