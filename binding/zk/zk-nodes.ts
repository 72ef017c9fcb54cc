// Node recipes on one session: idempotent, so zk-connection.ts may run them again after a
// connection loss or on a new session.
import { CreateMode, isNoNode, isNodeExists, type ZkClient } from './zk-client';

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

/**
 * Makes `path` an ephemeral node of this session. A node left by an earlier session (a broker
 * restarted within the session timeout) is replaced, or it would vanish when that session expires.
 */
export async function ensureEphemeral(client: ZkClient, path: string, data: Buffer = Buffer.alloc(0)): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await client.create(path, data, CreateMode.EPHEMERAL);
      return;
    } catch (error) {
      if (isNoNode(error)) {
        await client.mkdirp(parentOf(path));
        continue;
      }
      if (!isNodeExists(error)) throw error;
    }
    const stat = await client.exists(path);
    if (!stat) continue;
    if (stat.ephemeralOwner.equals(client.sessionId)) return;
    await removeIfExists(client, path);
  }
  throw new Error(`could not create ephemeral node ${path}: it keeps being re-created by another session`);
}

/** Makes `path` a persistent node (parents too) holding `data`; an existing node gets the new data. */
export async function ensurePersistent(client: ZkClient, path: string, data?: Buffer): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await client.create(path, data ?? Buffer.alloc(0), CreateMode.PERSISTENT);
      return;
    } catch (error) {
      if (isNoNode(error)) {
        await client.mkdirp(parentOf(path));
        continue;
      }
      if (!isNodeExists(error)) throw error;
    }
    if (data === undefined) return;
    try {
      await client.setData(path, data);
      return;
    } catch (error) {
      if (!isNoNode(error)) throw error; // deleted meanwhile: create again
    }
  }
  throw new Error(`could not write persistent node ${path}`);
}

export async function removeIfExists(client: ZkClient, path: string): Promise<void> {
  try {
    await client.remove(path);
  } catch (error) {
    if (!isNoNode(error)) throw error;
  }
}
