// The producer/consumer client: one object for the whole public API (doc/client.md). Follows the
// brokers of its topics (client/broker-pool.ts), spreads publishes over them and fails over with
// the same messageId (a consumer may see a duplicate, never a loss: doc/reliability.md).
import { hostname } from 'node:os';
import type { Binding } from '../binding/binding';
import { openRegistry } from '../binding/open-registry';
import type { Registry } from '../binding/registry';
import { CmdType } from '../protocol/commands';
import type { MessageHeader } from '../protocol/messages/header';
import type { MessagePacket } from '../protocol/messages/message';
import { encodeTxAck, TxStatus } from '../protocol/messages/tx-ack';
import { BrokerPool, type BrokerStatus } from './broker-pool';
import type { BrokerConnection } from './connection';
import { ClientClosedError, KiteQError } from './errors';
import { ClientEventHub, type ClientEventListener, type ClientEventName } from './events';
import { InFlight } from './in-flight';
import { Inbound } from './inbound';
import type { Message } from './message-builder';
import {
  type ClientOptions,
  type LocalTransaction,
  type MessageListener,
  type ResolvedOptions,
  resolveOptions,
  type TxCheckListener,
} from './options';
import { packetOf, Publish, type Publisher, type SendResult, storeAckResult } from './publish';
import { isRetriable, retry } from './retry';
import { type SendOptions, withSendOptions } from './send-options';

export type {
  ClientLogger,
  ClientOptions,
  LocalTransaction,
  MessageListener,
  TxCheckListener,
  TxDecision,
} from './options';

export type { SendResult } from './publish';

/** new → starting → running → draining → closed (close() from any state). */
export type ClientState = 'new' | 'starting' | 'running' | 'draining' | 'closed';

export interface ClientStatus {
  state: ClientState;
  /** every broker the client follows, with the state of its connection */
  brokers: BrokerStatus[];
  /** listener and check-back calls running, and sends (including sendTx) not settled */
  inFlight: { deliveries: number; sends: number };
}

export interface CloseOptions {
  /**
   * Wait for running listener calls (their acks are sent) and unsettled sends before closing;
   * deliveries arriving meanwhile are refused (redelivered later), new sends rejected.
   * @default false
   */
  drain?: boolean;
  /**
   * How long a drain waits; what is still running then is abandoned (the broker redelivers).
   * @default ClientOptions.drainTimeoutMs (10000)
   */
  timeoutMs?: number;
}

export class KiteQClient {
  private readonly options: ResolvedOptions;
  private readonly registry: Registry;
  private readonly ownsRegistry: boolean;
  private readonly events: ClientEventHub;
  private readonly pool: BrokerPool;
  private readonly deliveries = new InFlight();
  private readonly sends = new InFlight();
  /** what a Publish needs of this client (client/publish.ts) */
  private readonly publisher: Publisher;
  /** topics whose brokers the pool follows */
  private readonly followed = new Set<string>();
  private listener: MessageListener | undefined;
  private txCheckListener: TxCheckListener | undefined;
  private state: ClientState = 'new';
  private closing: Promise<void> | null = null;
  private resolveClosed!: () => void;
  private readonly whenClosed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(options: ClientOptions) {
    this.options = resolveOptions(options);
    this.ownsRegistry = typeof options.registry === 'string';
    this.registry = typeof options.registry === 'string' ? openRegistry(options.registry) : options.registry;
    this.listener = options.listener;
    this.publisher = {
      connectionFor: (topic, tried) => this.connectionFor(topic, tried),
      publishOnce: (packet, topic, tried) => this.publishOnce(packet, topic, tried),
      sends: this.sends,
      sendRetry: this.options.sendRetry,
    };
    this.txCheckListener = options.txCheckListener;
    this.events = new ClientEventHub((event, error) =>
      this.options.logger.warn({ event, err: (error as Error)?.message }, 'client event listener threw'),
    );
    const inbound = new Inbound({
      groupId: this.options.groupId,
      events: this.events,
      inFlight: this.deliveries,
      listener: () => this.listener,
      txCheckListener: () => this.txCheckListener,
      refusing: () => this.state === 'draining' || this.state === 'closed',
    });
    this.pool = new BrokerPool({
      options: this.options,
      events: this.events,
      onServerRequest: inbound.onServerRequest,
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  setMessageListener(listener: MessageListener): void {
    this.listener = listener;
  }

  setTxCheckListener(listener: TxCheckListener): void {
    this.txCheckListener = listener;
  }

  /** Listens to one event (client/events.ts); returns the unsubscribe. Unused events cost nothing. */
  on<E extends ClientEventName>(event: E, listener: ClientEventListener<E>): () => void {
    return this.events.on(event, listener);
  }

  /** A snapshot: the client's state, each broker's connection, what is in flight. */
  status(): ClientStatus {
    return {
      state: this.state,
      brokers: this.pool.status(),
      inFlight: { deliveries: this.deliveries.count, sends: this.sends.count },
    };
  }

  /**
   * Registers, follows the brokers of every topic it uses, and connects to them. Rejects with the
   * broker's BrokerRejectedError when no broker is usable and one refused our key; brokers that
   * are down are retried in the background.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new KiteQError(`start: the client is ${this.state}`, false);
    this.state = 'starting';
    const { groupId, publishTopics, bindings } = this.options;
    try {
      if (publishTopics.length > 0) await this.registry.publishTopics(groupId, hostname(), publishTopics);
      if (bindings.length > 0) await this.writeBindings(bindings);
      await this.follow([...publishTopics, ...bindings.map((b) => b.topic)]);
    } catch (error) {
      if (this.state === 'starting') this.state = 'new'; // the registry failed: start may be called again
      throw error;
    }
    await this.pool.attempted();
    if (this.state === 'starting') this.state = 'running';
    const refusal = this.pool.refusal();
    if (refusal) throw refusal;
  }

  /**
   * Adds or replaces this group's bindings of the topics listed (the registry holds one entry
   * per topic and group; topics not listed keep theirs) and follows their brokers.
   */
  async setBindings(bindings: Binding[]): Promise<void> {
    await this.writeBindings(bindings);
    await this.follow(bindings.map((b) => b.topic));
  }

  private async follow(topics: string[]): Promise<void> {
    for (const topic of new Set(topics)) {
      if (this.followed.has(topic)) continue;
      await this.registry.watchBrokers(topic, (addresses) => this.pool.onBrokers(topic, addresses));
      this.followed.add(topic);
    }
  }

  private async writeBindings(bindings: Binding[]): Promise<void> {
    await this.registry.subscribe(this.options.groupId, bindings);
    this.events.emit('bindings-changed', () => ({ bindings: [...bindings] }));
  }

  /** Connection count that is authenticated and usable. */
  get readyConnections(): number {
    return this.pool.readyCount;
  }

  /**
   * Publishes a message; resolves once a broker stored it (store-ack true), else rejects.
   * `{ deliverAt }` or `{ delayMs }` schedules it: stored now, delivered no earlier than that time
   * (doc/delayed-delivery.md).
   */
  send(message: Message, options?: SendOptions): Promise<SendResult> {
    if (this.state === 'draining' || this.state === 'closed') return Promise.reject(new ClientClosedError('send'));
    let packet: MessagePacket;
    try {
      packet = packetOf(withSendOptions(message, options), this.options.groupId);
    } catch (error) {
      return Promise.reject(error);
    }
    // one promise and one Publish per send (client/publish.ts)
    return new Promise((resolve, reject) => new Publish(this.publisher, packet, resolve, reject).start());
  }

  /** @deprecated the same as send() */
  sendStringMessage(message: Message): Promise<SendResult> {
    return this.send(message);
  }

  /** @deprecated the same as send() */
  sendBytesMessage(message: Message): Promise<SendResult> {
    return this.send(message);
  }

  /**
   * Two-phase publish (doc/transactions.md): store the message prepared (commit=false), run the
   * local transaction, then commit when it resolves (true or nothing) or roll back when it
   * returns false or throws. Resolves with the decision sent. Should the decision not arrive, the
   * broker asks the txCheckListener of this group.
   */
  async sendTx(message: Message, localTx: LocalTransaction, options?: SendOptions): Promise<'commit' | 'rollback'> {
    this.assertOpen('sendTx');
    this.sends.begin();
    try {
      const scheduled = withSendOptions(message, options);
      const prepared = {
        ...scheduled,
        header: {
          ...scheduled.header,
          commit: false,
          fly: false,
          groupId: message.header.groupId || this.options.groupId,
        },
      } as Message;
      await this.publish(prepared);
      let decision: 'commit' | 'rollback' = 'commit';
      let feedback = '';
      try {
        if ((await localTx(prepared)) === false) {
          decision = 'rollback';
          feedback = 'local transaction returned false';
        }
      } catch (error) {
        decision = 'rollback';
        feedback = (error as Error)?.message ?? String(error);
      }
      this.sendTxDecision(prepared.header, decision, feedback);
      return decision;
    } finally {
      this.sends.end();
    }
  }

  /** @deprecated the old name of sendTx() */
  sendTxMessage(message: Message, localTx: LocalTransaction): Promise<'commit' | 'rollback'> {
    return this.sendTx(message, localTx);
  }

  private assertOpen(what: string): void {
    if (this.state === 'draining' || this.state === 'closed') throw new ClientClosedError(what);
  }

  /** sendTx's publish: the first try, then the retrier on a retriable failure. */
  private async publish(message: Message): Promise<SendResult> {
    const packet = packetOf(message, this.options.groupId);
    // The common case, one try on a healthy connection, allocates no retry state.
    try {
      return await this.publishOnce(packet, packet.header.topic, null);
    } catch (error) {
      if (!isRetriable(error) || this.options.sendRetry.retries === 0) throw error;
    }
    const tried = new Set<string>();
    return retry(() => this.publishOnce(packet, packet.header.topic, tried), this.options.sendRetry);
  }

  /** The connection for one try; `tried` (on retries) steers away from brokers already tried. */
  private connectionFor(topic: string, tried: Set<string> | null): BrokerConnection {
    if (this.state === 'closed') throw new ClientClosedError('send');
    const connection = this.pool.pick(topic, tried);
    tried?.add(connection.address);
    return connection;
  }

  /** One publish on one connection. */
  private async publishOnce(packet: MessagePacket, topic: string, tried: Set<string> | null): Promise<SendResult> {
    const connection = this.connectionFor(topic, tried);
    return storeAckResult(connection, await connection.request(packet.cmdType, packet, 'publish'));
  }

  /** Sends a TX_ACK decision to every connected broker of the topic (only the one holding it acts). */
  private sendTxDecision(header: MessageHeader, decision: 'commit' | 'rollback', feedback: string): void {
    const body = encodeTxAck({ header, status: decision === 'commit' ? TxStatus.COMMIT : TxStatus.ROLLBACK, feedback });
    const connections = this.pool.readyFor(header.topic);
    for (const connection of connections) connection.send(connection.allocOpaque(), CmdType.TX_ACK, body);
    if (connections.length === 0)
      this.options.logger.warn(
        { messageId: header.messageId, decision },
        'no broker connected for the tx decision; the broker will check back',
      );
  }

  /** Resolves once the client is closed, by whoever called close() (nats.js' closed()). Never rejects. */
  closed(): Promise<void> {
    return this.whenClosed;
  }

  /**
   * Closes every connection and the registry (when the client opened it). With `drain`, first
   * waits (up to timeoutMs) for running listener calls and unsettled sends, refusing new ones.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown({ drain = false, timeoutMs = this.options.drainTimeoutMs }: CloseOptions): Promise<void> {
    if (drain && this.state !== 'closed') {
      this.state = 'draining';
      const deadline = Date.now() + timeoutMs;
      const drained =
        (await this.sends.idle(timeoutMs)) && (await this.deliveries.idle(Math.max(0, deadline - Date.now())));
      if (!drained)
        this.options.logger.warn(
          { inFlight: this.status().inFlight, timeoutMs },
          'close: drain timed out; closing anyway',
        );
    }
    this.state = 'closed';
    this.pool.close();
    try {
      if (this.ownsRegistry) await this.registry.close();
    } finally {
      this.resolveClosed();
    }
  }
}

export { KiteQError };
