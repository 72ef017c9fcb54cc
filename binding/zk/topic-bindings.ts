// The bindings of one topic, as ZooKeeper holds them: the children of /kiteq/sub/<topic> and the
// data of each <groupId>-bind node, cached per group (doc/architecture.md §3). A deleted, emptied or bad node
// changes only its own group: KiteQ drops a topic's whole table for a while (doc/architecture.md §12), we don't.
import { parseBinding, type Binding } from '../binding';
import type { ZkConnection } from './zk-connection';
import type { ZkLogger } from './zk-logger';
import { ChildrenWatch, DataWatch } from './zk-watches';
import { groupIdOfBindNode, topicSubscriptionsPath } from './zk-paths';

/**
 * Parses one -bind node. Bad JSON → no bindings for the group; a bad entry → that entry skipped.
 * Both logged with the path.
 */
export function parseBindNode(path: string, topic: string, groupId: string, data: Buffer, log: ZkLogger): Binding[] {
  if (data.length === 0) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch (error) {
    log.warn(
      { path, err: (error as Error).message, data: data.toString('utf8').slice(0, 200) },
      'zk bind node is not JSON; ignoring this group for the topic',
    );
    return [];
  }
  if (!Array.isArray(raw)) {
    log.warn(
      { path, data: data.toString('utf8').slice(0, 200) },
      'zk bind node is not a JSON array; ignoring this group for the topic',
    );
    return [];
  }
  const bindings: Binding[] = [];
  for (const entry of raw) {
    try {
      const binding = parseBinding(entry);
      if (binding.topic !== topic || binding.groupId !== groupId) {
        log.warn(
          { path, groupId: binding.groupId, topic: binding.topic },
          'zk bind entry names another topic or group than its node; skipped',
        );
        continue;
      }
      bindings.push(binding);
    } catch (error) {
      log.warn({ path, err: (error as Error).message, entry }, 'zk bind entry is invalid; skipped');
    }
  }
  return bindings;
}

interface GroupEntry {
  watch: DataWatch;
  bindings: Binding[];
}

export class TopicBindings {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly children: ChildrenWatch;

  constructor(
    private readonly connection: ZkConnection,
    readonly topic: string,
    private readonly log: ZkLogger,
    /** called after every change of this topic's bindings */
    private readonly onChange: () => void,
  ) {
    this.children = new ChildrenWatch(connection, topicSubscriptionsPath(topic), log, (names) =>
      this.onChildren(names),
    );
  }

  /** Resolves once every group's bindings have been read the first time. */
  start(): Promise<void> {
    return this.children.start();
  }

  stop(): void {
    this.children.stop();
    for (const entry of this.groups.values()) entry.watch.stop();
    this.groups.clear();
  }

  bindings(): Binding[] {
    return [...this.groups.values()].flatMap((entry) => entry.bindings);
  }

  /** New -bind children get a data watch (read before we report, so a group appears with its bindings at once). */
  private async onChildren(names: string[]): Promise<void> {
    const current = new Set(names.filter((name) => groupIdOfBindNode(name) !== undefined));
    let changed = false;
    for (const [name, entry] of this.groups) {
      if (current.has(name)) continue;
      entry.watch.stop();
      this.groups.delete(name);
      changed ||= entry.bindings.length > 0;
    }
    const added: Promise<void>[] = [];
    for (const name of current) {
      if (this.groups.has(name)) continue;
      const groupId = groupIdOfBindNode(name)!;
      const path = `${topicSubscriptionsPath(this.topic)}/${name}`;
      let initialised = false; // the first read is reported once, together with the other new groups
      const entry: GroupEntry = { bindings: [], watch: undefined as unknown as DataWatch };
      entry.watch = new DataWatch(this.connection, path, this.log, (data) => {
        entry.bindings = data === undefined ? [] : parseBindNode(path, this.topic, groupId, data, this.log);
        if (this.groups.get(name) === entry && initialised) this.onChange();
      });
      this.groups.set(name, entry);
      added.push(entry.watch.start().then(() => void (initialised = true)));
    }
    await Promise.all(added);
    if (changed || added.length > 0) this.onChange();
  }
}
