// Builds the AdminPort (server/http/admin-port.ts) from the broker's parts, so server/broker.ts
// only hands over references. A re-driven dead letter is handed to the recovery manager's redriveOne
// (committed: delivered at once; prepared: checked back again, server/recovery.ts).
import type { Binding } from '../../binding/binding';
import type { BrokerStats } from '../../stat/broker-stats';
import type { MessageStore } from '../../store/contract';
import type { BrokerConfig } from '../config';
import type { Logger } from '../logger';
import type { ScheduledMessages } from '../scheduled';
import { statfs } from 'node:fs/promises';
import { parseFileStoreUri } from '../../store/file/uri';
import { packageVersion } from './package-version';
import type { AdminPort, GroupConsumer, ReloadResult } from './admin-port';

/** A deleted dead letter is first moved back due this far ahead, so no recovery scan delivers it before the delete. */
const DELETE_HOLD_SEC = 24 * 3600;
import { registryReachable } from './reachability';

export interface BrokerPortDeps {
  config: () => BrokerConfig;
  serverName: string;
  stats: BrokerStats;
  store: MessageStore;
  log: Logger;
  nowMs: () => number;
  connections: () => number;
  inFlight: { readonly size: number; has(messageId: string): boolean };
  /** authenticated sessions by group */
  sessionsByGroup: () => ReadonlyMap<string, readonly GroupConsumer[]>;
  /** live brokers in the registry, this one included ([] when the registry cannot tell) */
  aliveBrokers: () => readonly string[];
  bindings: () => readonly Binding[];
  /** moves one dead letter back (RecoveryManager.redriveOne); false when it is not one */
  redrive: (messageId: string) => Promise<boolean>;
  /** cancel and list messages not yet at their kiteq.deliverAt */
  scheduled: Pick<ScheduledMessages, 'cancel' | 'list'>;
  reload: (() => Promise<ReloadResult>) | null;
}

export function createBrokerPort(deps: BrokerPortDeps): AdminPort {
  const { stats, store, log } = deps;
  return {
    serverName: deps.serverName,
    version: packageVersion(),
    storeKind: { kind: store.kind, durable: store.durable },
    async storeDisk() {
      const uri = deps.config().store;
      if (store.kind !== 'file' || !uri.startsWith('file://')) return null;
      const disk = await statfs(parseFileStoreUri(uri).dir);
      return { freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize };
    },
    storeWrites: () => store.writeStats?.(),
    peers: () => deps.aliveBrokers().filter((address) => address !== deps.serverName),
    consumers() {
      const out: Record<string, GroupConsumer[]> = {};
      for (const [groupId, sessions] of deps.sessionsByGroup())
        out[groupId] = sessions.map(({ remote, authAtMs, warmingupSec }) => ({ remote, authAtMs, warmingupSec }));
      return out;
    },
    listPrepared: ({ after, limit }) =>
      store.pageDue({ dueBy: Number.MAX_SAFE_INTEGER, committed: false, after, limit }),
    async deleteDeadLetter(id) {
      // The store contract has no "delete a dead letter": move it back due a day ahead, then delete it.
      // A crash between the two leaves it live and delivered a day later: kept, never lost.
      const nowSec = Math.floor(deps.nowMs() / 1000);
      if (!(await store.redrive(id, nowSec + DELETE_HOLD_SEC))) return false;
      await store.delete(id);
      log.info({ messageId: id }, 'dead letter deleted (admin)');
      return true;
    },
    stats,
    topics: () => deps.config().topics,
    connections: deps.connections,
    inFlightCount: () => deps.inFlight.size,
    isInFlight: (id) => deps.inFlight.has(id),
    onlineGroups() {
      const out: Record<string, string[]> = {};
      for (const [groupId, sessions] of deps.sessionsByGroup()) out[groupId] = sessions.map((s) => s.remote);
      return out;
    },
    bindings: deps.bindings,
    publishPermitsPerSecond: () => deps.config().publishPermitsPerSecond,
    getMessage: (id) => store.get(id),
    listDeadLetters: (query) => store.listDeadLetters(query),
    async redrive(id) {
      const redriven = await deps.redrive(id);
      if (redriven) log.debug({ messageId: id }, 'dead letter re-driven');
      return redriven;
    },
    async cancelScheduled(id) {
      const outcome = await deps.scheduled.cancel(id);
      if (outcome === 'cancelled') log.info({ messageId: id }, 'scheduled message cancelled (admin)');
      return outcome;
    },
    listScheduled: (query) => deps.scheduled.list(query),
    async storeReachable() {
      const health = await stats.storeProbe.probe();
      return health.ok ? { ok: true } : { ok: false, reason: `store probe failed: ${health.lastError}` };
    },
    storeDamage: () => store.damageStats?.(),
    registryReachable: () => registryReachable(deps.config().registry),
    reload: deps.reload,
    httpToken: () => deps.config().httpToken,
  };
}
