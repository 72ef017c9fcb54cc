// The client's brokers: follows the registry's list per topic, keeps one connection to each
// broker (reconnecting with back-off), and picks one for a publish. Each broker's link moves
// through client/broker-state.ts; a refusal or a protocol error touches that broker only.
import type { Frame } from '../protocol/frame-decoder';
import { type BrokerState, nextBrokerState, type BrokerEvent } from './broker-state';
import { BrokerConnection } from './connection';
import { BrokerRejectedError, ConnectionClosedError, ProtocolViolationError } from './errors';
import type { ClientEventHub } from './events';
import type { ResolvedOptions } from './options';
import { backoffDelayMs } from './retry';

/** One broker as status() shows it. */
export interface BrokerStatus {
  /** host:port */
  address: string;
  state: BrokerState;
  /** topics of ours this broker serves */
  topics: string[];
  /** still listed in the registry (an unlisted broker is kept while its connection lives) */
  listed: boolean;
  /** failed connects since the last success */
  reconnectAttempt: number;
  /** why the last connection or attempt ended */
  lastError?: string;
}

interface BrokerSlot {
  address: string;
  state: BrokerState;
  connection: BrokerConnection | null;
  topics: Set<string>;
  listed: boolean;
  reconnectAttempt: number;
  timer: NodeJS.Timeout | null;
  /** the current connect attempt, settled either way */
  connecting: Promise<void> | null;
  lastError: Error | null;
}

export interface BrokerPoolDeps {
  options: ResolvedOptions;
  events: ClientEventHub;
  /** a delivery or check-back; a throw closes that connection */
  onServerRequest: (connection: BrokerConnection, frame: Frame) => void;
}

/** pick()'s tiers: 0 = ready for the topic, listed and not excluded; 1 = ready and listed; 2 = ready. */
function eligible(slot: BrokerSlot, topic: string, exclude: Set<string> | null, tier: number): boolean {
  return (
    slot.connection?.ready === true &&
    slot.topics.has(topic) &&
    (tier === 2 || slot.listed) &&
    (tier > 0 || exclude === null || !exclude.has(slot.address))
  );
}

export class BrokerPool {
  private readonly slots = new Map<string, BrokerSlot>();
  private readonly brokersByTopic = new Map<string, string[]>();
  private roundRobin = 0;
  private closed = false;

  constructor(private readonly deps: BrokerPoolDeps) {}

  /**
   * The registry's list of brokers for `topic` changed. A broker that left the list is not
   * disconnected at once: its node also vanishes when only its ZooKeeper session expired, and
   * connected clients keep working without ZooKeeper (doc/zookeeper.md). It stops getting new
   * publishes while any listed broker is connected, and is dropped when its connection closes.
   */
  onBrokers(topic: string, addresses: string[]): void {
    if (this.closed) return;
    this.brokersByTopic.set(topic, addresses);
    const wanted = new Set<string>();
    for (const list of this.brokersByTopic.values()) for (const a of list) wanted.add(a);
    const added: BrokerSlot[] = [];
    for (const address of wanted) {
      if (this.slots.has(address)) continue;
      const slot: BrokerSlot = {
        address,
        state: 'connecting',
        connection: null,
        topics: new Set(),
        listed: true,
        reconnectAttempt: 0,
        timer: null,
        connecting: null,
        lastError: null,
      };
      this.slots.set(address, slot);
      added.push(slot);
    }
    for (const slot of [...this.slots.values()]) {
      slot.listed = wanted.has(slot.address);
      if (!slot.listed) {
        if (slot.state !== 'connected') this.dropSlot(slot);
        continue; // keeps the topics it served
      }
      slot.topics.clear();
      for (const [t, list] of this.brokersByTopic) if (list.includes(slot.address)) slot.topics.add(t);
    }
    for (const slot of added) {
      this.deps.events.emit('broker-added', () => ({ broker: slot.address, topics: [...slot.topics] }));
      this.connect(slot);
    }
  }

  /** Settles when every broker known now has had its current connect attempt. */
  async attempted(): Promise<void> {
    await Promise.allSettled([...this.slots.values()].map((slot) => slot.connecting));
  }

  /** The refusal to report when no broker is usable and at least one refused our key. */
  refusal(): BrokerRejectedError | null {
    if (this.readyCount > 0) return null;
    for (const slot of this.slots.values())
      if (slot.state === 'auth-failed' && slot.lastError instanceof BrokerRejectedError) return slot.lastError;
    return null;
  }

  get readyCount(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.connection?.ready) n++;
    return n;
  }

  /** A ready connection for `topic`: listed and not in `exclude`; then listed; then any. */
  pick(topic: string, exclude: Set<string> | null): BrokerConnection {
    // counted, then the n-th taken: no array or closure per publish (doc/scaling.md "Client CPU per message")
    for (let tier = 0; tier < 3; tier++) {
      let count = 0;
      for (const slot of this.slots.values()) if (eligible(slot, topic, exclude, tier)) count++;
      if (count === 0) continue;
      let nth = this.roundRobin++ % count;
      for (const slot of this.slots.values())
        if (eligible(slot, topic, exclude, tier) && nth-- === 0) return slot.connection!;
    }
    throw new ConnectionClosedError(`no connected broker serves topic "${topic}"`);
  }

  /** Every ready connection to a broker of `topic`. */
  readyFor(topic: string): BrokerConnection[] {
    const out: BrokerConnection[] = [];
    for (const slot of this.slots.values())
      if (slot.connection?.ready && slot.topics.has(topic)) out.push(slot.connection);
    return out;
  }

  status(): BrokerStatus[] {
    return [...this.slots.values()].map((slot) => ({
      address: slot.address,
      state: slot.state,
      topics: [...slot.topics],
      listed: slot.listed,
      reconnectAttempt: slot.reconnectAttempt,
      ...(slot.lastError ? { lastError: slot.lastError.message } : {}),
    }));
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) this.closeSlot(slot);
    this.slots.clear();
  }

  private move(slot: BrokerSlot, event: BrokerEvent): void {
    slot.state = nextBrokerState(slot.state, event);
  }

  private connect(slot: BrokerSlot): void {
    const { options } = this.deps;
    const connection = new BrokerConnection(slot.address, {
      groupId: options.groupId,
      secretKey: options.secretKey,
      warmingupSec: options.warmingupSec,
      requestTimeoutMs: options.requestTimeoutMs,
      heartbeatMs: options.heartbeatMs,
      connectTimeoutMs: options.connectTimeoutMs,
      tls: options.tls,
      onServerRequest: this.deps.onServerRequest,
      onClose: (conn, error) => this.onDown(slot, conn, error),
    });
    slot.connection = connection;
    slot.connecting = connection.connect().then(
      () => {
        if (slot.connection !== connection || connection.closed) return;
        this.move(slot, 'connected');
        slot.reconnectAttempt = 0;
        slot.lastError = null;
        options.logger.info({ address: slot.address }, 'connected to broker');
        this.deps.events.emit('connect', () => ({ broker: slot.address }));
      },
      (error: Error) => {
        this.onDown(slot, connection, error); // first: the close below reports no reason
        connection.close();
      },
    );
  }

  /** A connection closed or its connect failed; the first report per connection counts. */
  private onDown(slot: BrokerSlot, connection: BrokerConnection, error: Error | undefined): void {
    if (slot.connection !== connection) return;
    slot.connection = null;
    if (this.closed || slot.state === 'closed') return;
    const { events, options } = this.deps;
    const wasConnected = slot.state === 'connected';
    slot.lastError = error ?? null;
    if (error instanceof ProtocolViolationError) {
      options.logger.warn(
        { address: slot.address, err: error.message },
        'broker broke the protocol; connection closed',
      );
      events.emit('error', () => ({ error, broker: slot.address }));
    }
    if (wasConnected) events.emit('disconnect', () => ({ broker: slot.address, error }));
    if (!slot.listed) return this.dropSlot(slot); // gone from the registry and now closed: forget it
    if (error instanceof BrokerRejectedError && !error.retriable) {
      this.move(slot, 'refused');
      const retryInMs = options.authRetryMs > 0 ? options.authRetryMs : null;
      options.logger.warn({ address: slot.address, err: error.message, retryInMs }, 'broker refused our key');
      events.emit('auth-failed', () => ({ broker: slot.address, error, retryInMs }));
      if (retryInMs !== null) this.retryAfter(slot, retryInMs);
      return;
    }
    this.move(slot, 'lost');
    const attempt = slot.reconnectAttempt++;
    const delayMs = backoffDelayMs(attempt, options.reconnect);
    options.logger.warn(
      { address: slot.address, err: error?.message, attempt, delayMs },
      'broker connection lost; reconnecting',
    );
    events.emit('reconnecting', () => ({ broker: slot.address, attempt, delayMs, error }));
    this.retryAfter(slot, delayMs);
  }

  private retryAfter(slot: BrokerSlot, delayMs: number): void {
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.closed || slot.state === 'closed') return;
      this.move(slot, 'retry');
      this.connect(slot);
    }, delayMs);
  }

  private dropSlot(slot: BrokerSlot): void {
    this.slots.delete(slot.address);
    this.closeSlot(slot);
    this.deps.options.logger.info({ address: slot.address }, 'broker left the registry; disconnected');
    this.deps.events.emit('broker-removed', () => ({ broker: slot.address }));
  }

  private closeSlot(slot: BrokerSlot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    this.move(slot, 'close');
    const connection = slot.connection;
    slot.connection = null;
    connection?.close();
  }
}
