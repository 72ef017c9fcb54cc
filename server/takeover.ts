// Broker takeover (doc/architecture.md §9): brokers sharing a MySQL store watch /kiteq/alive_servers. When a
// broker's ephemeral node is gone (its ZooKeeper session ended: crash, or partition past the
// session timeout) and stays gone for a short grace period, the survivors race for the lock
// /kiteq/locks/takeover-<address>; the one that gets it rewrites kite_server of the dead
// broker's unfinished rows to itself and re-drives them. KiteQ leaves them waiting forever
// (doc/architecture.md §12). A broker that comes back pages only rows it owns, so it does not deliver these.
import type { BrokerRegistry } from '../binding/registry';
import type { MessageStore } from '../store/contract';
import type { Logger } from './logger';

export type TakeoverRegistry = Pick<BrokerRegistry, 'watchAliveBrokers' | 'tryLock'>;
export type TakeoverStore = Pick<MessageStore, 'takeOver'>;

export interface TakeoverDeps {
  registry: TakeoverRegistry;
  store: TakeoverStore;
  self: string;
  log: Logger;
  /** rows now owned by this broker: deliver them (a recovery scan) */
  onTakenOver: (deadServer: string, rows: number) => void;
  /** how long a broker must stay gone before its rows are taken */
  graceMs: number;
}

export class TakeoverManager {
  private alive = new Set<string>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private readonly running = new Set<Promise<number>>();

  constructor(private readonly deps: TakeoverDeps) {}

  /** false when the registry or store cannot take over (file registry, file/memory store). */
  get supported(): boolean {
    const { registry, store } = this.deps;
    return (
      typeof registry.watchAliveBrokers === 'function' &&
      typeof registry.tryLock === 'function' &&
      typeof store.takeOver === 'function'
    );
  }

  async start(): Promise<void> {
    if (!this.supported) return;
    let first = true;
    await this.deps.registry.watchAliveBrokers!((addresses) => {
      const now = new Set(addresses);
      if (!first) {
        for (const gone of this.alive) if (!now.has(gone) && gone !== this.deps.self) this.suspect(gone);
      }
      for (const back of now) {
        const timer = this.pending.get(back);
        if (timer) {
          clearTimeout(timer);
          this.pending.delete(back);
          this.deps.log.info({ broker: back }, 'takeover: broker came back within the grace period');
        }
      }
      this.alive = now;
      first = false;
    });
  }

  private suspect(dead: string): void {
    if (this.pending.has(dead) || this.stopped) return;
    this.pending.set(
      dead,
      setTimeout(() => {
        this.pending.delete(dead);
        if (this.alive.has(dead) || this.stopped) return;
        const attempt = this.takeOver(dead);
        this.running.add(attempt);
        void attempt.then((rows) => {
          this.running.delete(attempt);
          // Not done (lock busy, store or ZooKeeper down): try again; the dead broker is no longer in
          // `alive`, so no registry change would bring it back here.
          if (rows < 0 && !this.alive.has(dead)) this.suspect(dead);
        });
      }, this.deps.graceMs),
    );
  }

  /**
   * Takes over `dead`'s unfinished messages if this broker wins the lock; resolves with the rows
   * moved (0 when another broker took them first), -1 when not done (the lock is busy, or a failure).
   */
  async takeOver(dead: string): Promise<number> {
    const { registry, store, self, log, onTakenOver } = this.deps;
    let lock: { release(): Promise<void> } | null = null;
    try {
      lock = await registry.tryLock!(`takeover-${dead}`, self);
      if (!lock) {
        // Looked at again after graceMs: if the holder dies mid-way, the rest is still taken;
        // once it is done, our next attempt finds no rows and stops.
        log.info({ broker: dead }, 'takeover: another broker holds the lock');
        return -1;
      }
      const rows = await store.takeOver!(dead);
      if (rows === 0) {
        log.info(
          { broker: dead },
          'takeover: the dead broker left no unfinished messages (or another broker took them)',
        );
        return 0;
      }
      log.warn({ broker: dead, rows }, 'takeover: adopted the unfinished messages of a dead broker');
      onTakenOver(dead, rows);
      return rows;
    } catch (error) {
      log.error({ err: error, broker: dead, retryInMs: this.deps.graceMs }, 'takeover failed; will try again');
      return -1;
    } finally {
      await lock?.release().catch(() => undefined);
    }
  }

  /** Cancels pending takeovers and waits for one in progress (its rows stay ours: the store has them). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.all(this.running);
  }
}
