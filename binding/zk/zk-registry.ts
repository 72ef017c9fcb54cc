// The zk:// registry (doc/architecture.md §3): KiteQ's layout under /kiteq, for brokers and clients alike.
// Watches report only what ZooKeeper holds; while ZooKeeper is unreachable or a session is being
// replaced, listeners keep the last report (no empty set because of an outage), and after a new
// session the ephemerals are re-created and every watch re-reads.
import type { Binding } from '../binding';
import type { Registry } from '../registry';
import { ZkConnection } from './zk-connection';
import type { ZkLogger } from './zk-logger';
import { tryLock, type ZkLock } from './zk-lock';
import { ensureEphemeral, ensurePersistent, removeIfExists } from './zk-nodes';
import {
  ALIVE_SERVERS,
  aliveServerPath,
  allServerPath,
  bindNodePath,
  brokerTopicPath,
  checkSegment,
  encodeBindNode,
  PUB_ROOT,
  publisherPath,
  topicServersPath,
  topicSubscriptionsPath,
} from './zk-paths';
import { TopicBindings } from './topic-bindings';
import { ChildrenWatch } from './zk-watches';

export interface ZkRegistryOptions {
  connectString: string;
  /** asked of ZooKeeper (it clamps to its min/max); KiteQ uses 5 s. Default 10 s. */
  sessionTimeoutMs?: number;
  /** how long the first connection may take before calls fail. Default 10 s. */
  connectTimeoutMs?: number;
  logger: ZkLogger;
}

interface Stoppable {
  stop(): void;
}

/** Calls `report` only when the value differs from the last one reported (by its JSON). */
function changesOnly<T>(report: (value: T) => void): (value: T) => void {
  let last: string | undefined;
  return (value) => {
    const key = JSON.stringify(value);
    if (key === last) return;
    last = key;
    report(value);
  };
}

export class ZkRegistry implements Registry {
  private readonly connection: ZkConnection;
  private started: Promise<void> | undefined;
  /** the ephemeral nodes we own; re-created on every new session */
  private readonly ephemerals = new Set<string>();
  private readonly watches = new Set<Stoppable>();
  private readonly log: ZkLogger;

  constructor(options: ZkRegistryOptions) {
    this.log = options.logger;
    this.connection = new ZkConnection(
      {
        connectString: options.connectString,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      },
      options.logger,
    );
    this.connection.onNewSession(async () => {
      for (const path of this.ephemerals) await this.connection.run((client) => ensureEphemeral(client, path));
      if (this.ephemerals.size > 0) this.log.info({ nodes: [...this.ephemerals] }, 'zk ephemeral nodes re-created');
    });
  }

  /** Connects (once); every other method calls it, so calling it first only surfaces errors early. */
  connect(): Promise<void> {
    if (!this.started) {
      this.started = this.connection.start();
      this.started.catch(() => (this.started = undefined)); // let a later call try again
    }
    return this.started;
  }

  /** Hex id of the current session (tests, logs). */
  async sessionId(): Promise<string> {
    await this.connect();
    return (await this.connection.current()).sessionId.toString('hex');
  }

  /** Sessions opened so far: 1, plus one per expiry. */
  get sessionCount(): number {
    return this.connection.sessionCount;
  }

  async registerBroker(address: string, topics: string[]): Promise<void> {
    checkSegment('broker address', address);
    topics.forEach((topic) => checkSegment('topic', topic));
    await this.connect();
    const nodes = [...topics.map((topic) => brokerTopicPath(topic, address)), aliveServerPath(address)];
    for (const path of nodes) this.ephemerals.add(path);
    await this.connection.run(async (client) => {
      for (const topic of topics) {
        // KiteQ creates the topic's pub and sub roots too, so watchers find them
        await ensurePersistent(client, `${PUB_ROOT}/${topic}`);
        await ensurePersistent(client, topicSubscriptionsPath(topic));
      }
      for (const path of nodes) await ensureEphemeral(client, path);
      await ensurePersistent(client, allServerPath(address));
    });
    this.log.info({ address, topics }, 'zk broker registered');
  }

  async unregisterBroker(): Promise<void> {
    if (this.ephemerals.size === 0) return;
    const nodes = [...this.ephemerals];
    this.ephemerals.clear();
    await this.connection.run(async (client) => {
      for (const path of nodes) await removeIfExists(client, path);
    });
    this.log.info({ nodes }, 'zk broker unregistered');
  }

  async watchBindings(topics: string[], onChange: (bindings: Binding[]) => void): Promise<void> {
    topics.forEach((topic) => checkSegment('topic', topic));
    await this.connect();
    let ready = false;
    const report = changesOnly(onChange);
    const watched: TopicBindings[] = [];
    const emit = () => {
      if (ready) report(watched.flatMap((topic) => topic.bindings()));
    };
    for (const topic of new Set(topics)) {
      const topicBindings = new TopicBindings(this.connection, topic, this.log, emit);
      watched.push(topicBindings);
      this.watches.add(topicBindings);
    }
    await Promise.all(watched.map((topic) => topic.start()));
    ready = true;
    emit();
  }

  async watchAliveBrokers(onChange: (addresses: string[]) => void): Promise<void> {
    await this.watchChildren(ALIVE_SERVERS, onChange);
  }

  async publishTopics(groupId: string, hostname: string, topics: string[]): Promise<void> {
    checkSegment('groupId', groupId);
    checkSegment('hostname', hostname);
    topics.forEach((topic) => checkSegment('topic', topic));
    await this.connect();
    await this.connection.run(async (client) => {
      for (const topic of topics) await ensurePersistent(client, publisherPath(topic, groupId, hostname));
    });
  }

  /** One -bind node per topic with this group's bindings (groupId forced to the group, as KiteQ does). */
  async subscribe(groupId: string, bindings: Binding[]): Promise<void> {
    checkSegment('groupId', groupId);
    const byTopic = new Map<string, Binding[]>();
    for (const binding of bindings) {
      checkSegment('topic', binding.topic);
      byTopic.set(binding.topic, [...(byTopic.get(binding.topic) ?? []), { ...binding, groupId }]);
    }
    await this.connect();
    await this.connection.run(async (client) => {
      for (const [topic, topicBindings] of byTopic)
        await ensurePersistent(client, bindNodePath(topic, groupId), encodeBindNode(topicBindings));
    });
    this.log.info({ groupId, topics: [...byTopic.keys()] }, 'zk bindings written');
  }

  /** Removes the group's -bind node of each topic (the broker then drops its bindings). */
  async unsubscribe(groupId: string, topics: string[]): Promise<void> {
    await this.connect();
    await this.connection.run(async (client) => {
      for (const topic of topics) await removeIfExists(client, bindNodePath(topic, groupId));
    });
  }

  async watchBrokers(topic: string, onChange: (addresses: string[]) => void): Promise<void> {
    checkSegment('topic', topic);
    await this.watchChildren(topicServersPath(topic), onChange);
  }

  /** Takeover lock (doc/architecture.md §9): an ephemeral /kiteq/locks/<name>; null when another session holds it. */
  async tryLock(name: string, owner = ''): Promise<ZkLock | null> {
    await this.connect();
    return tryLock(this.connection, name, owner, this.log);
  }

  async close(): Promise<void> {
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    this.ephemerals.clear();
    await this.connection.close(); // closing the session deletes our ephemeral nodes at once
  }

  private async watchChildren(path: string, onChange: (children: string[]) => void): Promise<void> {
    await this.connect();
    let ready = false;
    const report = changesOnly(onChange);
    let latest: string[] = [];
    const watch = new ChildrenWatch(this.connection, path, this.log, (children) => {
      latest = children;
      if (ready) report(latest);
    });
    this.watches.add(watch);
    await watch.start();
    ready = true;
    report(latest);
  }
}
