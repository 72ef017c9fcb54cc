// Everything /stat, /metrics and /healthz read (doc/architecture.md §10), kept by one object per broker:
// flow counters (bumped by the pipeline), the per-second meter, latency histograms, the cached
// backlog, the store probe, and network totals. Its timers run off the hot path.
import type { MessageStore } from '../store/contract';
import { BacklogCache } from './backlog';
import { GroupBacklogCache } from './group-backlog';
import { FlowCounters } from './counters';
import { FlowHistory } from './flow-history';
import { FlowRateMeter, type FlowRates } from './flow-rates';
import { LatencyHistogram } from './latency-histogram';
import { type StoreHealth, StoreProbe } from './store-health';

export interface NetworkTotals {
  /** bytes read from / written to client sockets since start */
  readBytes: number;
  writeBytes: number;
}

export interface NetworkRates {
  readCount: number;
  readBytes: number;
  writeCount: number;
  writeBytes: number;
}

export interface BrokerStatsOptions {
  store: Pick<MessageStore, 'get' | 'countsByTopic' | 'scheduledCount' | 'groupBacklog'>;
  /** the groups a message of (topic, messageType) is delivered to now: for the per-group backlog */
  groupsOf: (topic: string, messageType: string) => readonly string[];
  nowMs: () => number;
  /** socket byte totals (live sockets plus closed ones), read once a second */
  networkTotals: () => NetworkTotals;
  onBacklogError: (error: unknown) => void;
  backlogRefreshMs?: number;
  storeProbeMs?: number;
  storeProbeTimeoutMs?: number;
}

export class BrokerStats {
  readonly counters: FlowCounters;
  readonly rates: FlowRateMeter;
  /** publish packet decoded → store-ack written (doc/architecture.md §4: after the store says durable) */
  readonly publishToStoreAck = new LatencyHistogram();
  /** publish packet decoded → first delivery packet written to a consumer */
  readonly publishToDeliver = new LatencyHistogram();
  readonly backlog: BacklogCache;
  /** per group, refreshed while read (the console's Groups view), not by a timer */
  readonly groupBacklog: GroupBacklogCache;
  readonly storeProbe: StoreProbe;
  /** the last 15 minutes of flows and backlog, a sample a second (the console's charts) */
  readonly history = new FlowHistory();
  /** unix ms the broker's stats started (its uptime) */
  startedAtMs = 0;
  /** packets decoded from clients since start (bumped by the broker's frame hook) */
  framesIn = 0;
  private lastFramesIn = 0;
  private lastNetwork: NetworkTotals = { readBytes: 0, writeBytes: 0 };
  private lastWrites = 0;
  private network: NetworkRates = { readCount: 0, readBytes: 0, writeCount: 0, writeBytes: 0 };
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly options: BrokerStatsOptions,
    counters = new FlowCounters(),
  ) {
    this.counters = counters;
    this.rates = new FlowRateMeter(counters);
    this.backlog = new BacklogCache(options.store, options.nowMs, options.onBacklogError);
    this.groupBacklog = new GroupBacklogCache({
      store: options.store,
      groupsOf: options.groupsOf,
      nowMs: options.nowMs,
      onError: options.onBacklogError,
    });
    this.storeProbe = new StoreProbe(options.store, options.nowMs, options.storeProbeTimeoutMs ?? 2000);
  }

  get flowsLastSecond(): FlowRates {
    return this.rates.lastSecond;
  }

  get networkLastSecond(): NetworkRates {
    return this.network;
  }

  get storeHealth(): StoreHealth {
    return this.storeProbe.last;
  }

  /** the store keeps a count of scheduled messages (memory, file; not mysql: doc/delayed-delivery.md "Counting") */
  get countsScheduled(): boolean {
    return this.options.store.scheduledCount !== undefined;
  }

  /** Messages whose kiteq.deliverAt is still ahead, read from the store's own count; null when it keeps none. */
  scheduledMessages(): number | null {
    const { store, nowMs } = this.options;
    return store.scheduledCount ? store.scheduledCount(nowMs()) : null;
  }

  /** Packets written: store-acks (stored + rejected) and deliveries; heartbeats are not counted. */
  private writesTotal(): number {
    const t = this.counters.total;
    return t.stored + t.rejected + t.delivered;
  }

  private tick(): void {
    const flows = this.rates.tick();
    let backlog = 0;
    for (const n of Object.values(this.backlog.byTopic([]))) backlog += n;
    this.history.push(this.options.nowMs(), flows.total, backlog);
    const net = this.options.networkTotals();
    const writes = this.writesTotal();
    this.network = {
      readCount: this.framesIn - this.lastFramesIn,
      readBytes: net.readBytes - this.lastNetwork.readBytes,
      writeCount: writes - this.lastWrites,
      writeBytes: net.writeBytes - this.lastNetwork.writeBytes,
    };
    this.lastFramesIn = this.framesIn;
    this.lastNetwork = net;
    this.lastWrites = writes;
  }

  async start(): Promise<void> {
    this.startedAtMs = this.options.nowMs();
    await Promise.all([this.backlog.refresh(), this.storeProbe.probe()]);
    const every = (ms: number, fn: () => unknown) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(1000, () => this.tick());
    every(this.options.backlogRefreshMs ?? 5000, () => void this.backlog.refresh());
    every(this.options.storeProbeMs ?? 5000, () => void this.storeProbe.probe());
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}
