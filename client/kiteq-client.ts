// The producer/consumer client. Follows the brokers of its topics in the registry, keeps one
// connection to each (reconnecting with backoff), spreads publishes over them and fails over
// with the same messageId (a consumer may see a duplicate, never a loss: design §9).
import { hostname } from 'node:os';
import type { Binding } from '../binding/binding';
import { openRegistry } from '../binding/open-registry';
import type { Registry } from '../binding/registry';
import { CmdType } from '../protocol/commands';
import type { Frame } from '../protocol/frame-decoder';
import { encodeDeliverAck } from '../protocol/messages/deliver-ack';
import { decodeMessage, encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck, type MessageStoreAck } from '../protocol/messages/store-ack';
import { decodeTxAck, encodeTxAck, type TxAck, TxStatus } from '../protocol/messages/tx-ack';
import { isRetriableFeedback } from '../protocol/reasons';
import { BrokerConnection, type ClientTlsOptions } from './connection';
import { BrokerRejectedError, ConnectionClosedError, KiteQError } from './errors';
import type { Message } from './message-builder';
import { backoffDelayMs, DEFAULT_RETRY, isRetriable, retry, type RetryOptions } from './retry';
import { compressBytes, compressString, uncompressBytes, uncompressString } from './snappy';

/** Consumer callback: true = consumed (DeliverAck status true); false or a throw = redeliver. */
export type MessageListener = (message: Message) => boolean | Promise<boolean>;
export type TxDecision = 'commit' | 'rollback' | 'unknown';
/** Answers a broker check-back about a prepared message (design §7). */
export type TxCheckListener = (message: Pick<Message, 'header'>) => TxDecision | Promise<TxDecision>;

export interface ClientLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface ClientOptions {
  /** zk://host:port[,host:port] or file://path.yaml, or a Registry object */
  registry: string | Registry;
  groupId: string;
  secretKey: string;
  /** topics this client publishes to */
  publishTopics?: string[];
  /** bindings this client's group consumes */
  bindings?: Binding[];
  listener?: MessageListener;
  txCheckListener?: TxCheckListener;
  warmingupSec?: number;
  requestTimeoutMs?: number;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  /** retries of a publish on another broker/connection */
  sendRetry?: Partial<RetryOptions>;
  logger?: ClientLogger;
  /** connect to brokers over TLS (brokers started with --tls-cert/--tls-key) */
  tls?: ClientTlsOptions;
}

/** The broker's store-ack, and which broker (host:port) stored the message. */
export type SendResult = MessageStoreAck & { broker: string };

const silent: ClientLogger = { warn() {}, info() {} };

interface BrokerSlot {
  address: string;
  connection: BrokerConnection | null;
  topics: Set<string>;
  /** still listed in the registry */
  listed: boolean;
  reconnectAttempt: number;
  timer: NodeJS.Timeout | null;
  connecting: Promise<void> | null;
}

export class KiteQClient {
  private readonly registry: Registry;
  private readonly ownsRegistry: boolean;
  private readonly slots = new Map<string, BrokerSlot>();
  private readonly brokersByTopic = new Map<string, string[]>();
  private listener: MessageListener | undefined;
  private txCheckListener: TxCheckListener | undefined;
  private readonly log: ClientLogger;
  private readonly retryOptions: RetryOptions;
  private roundRobin = 0;
  private closed = false;
  private authError: Error | null = null;

  constructor(private readonly options: ClientOptions) {
    this.ownsRegistry = typeof options.registry === 'string';
    this.registry = typeof options.registry === 'string' ? openRegistry(options.registry) : options.registry;
    this.listener = options.listener;
    this.txCheckListener = options.txCheckListener;
    this.log = options.logger ?? silent;
    this.retryOptions = { ...DEFAULT_RETRY, ...options.sendRetry };
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

  /** Registers, follows the brokers of every topic it uses, and connects to them. */
  async start(): Promise<void> {
    const { groupId } = this.options;
    const publishTopics = this.options.publishTopics ?? [];
    const bindings = this.options.bindings ?? [];
    if (publishTopics.length > 0) await this.registry.publishTopics(groupId, hostname(), publishTopics);
    if (bindings.length > 0) await this.registry.subscribe(groupId, bindings);
    const topics = [...new Set([...publishTopics, ...bindings.map((b) => b.topic)])];
    for (const topic of topics) await this.registry.watchBrokers(topic, (addresses) => this.onBrokers(topic, addresses));
    await Promise.allSettled([...this.slots.values()].map((slot) => slot.connecting));
    if (this.authError) throw this.authError;
  }

  /** Connection count that is authenticated and usable. */
  get readyConnections(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.connection?.ready) n++;
    return n;
  }

  /**
   * The registry's list of brokers changed. A broker that left the list is not disconnected at
   * once: its node also vanishes when only its ZooKeeper session expired, and design §3 keeps
   * connected clients and brokers working without ZooKeeper. It stops getting new publishes
   * while any listed broker is connected, and is dropped when its connection closes.
   */
  private onBrokers(topic: string, addresses: string[]): void {
    this.brokersByTopic.set(topic, addresses);
    const wanted = new Set<string>();
    for (const list of this.brokersByTopic.values()) for (const a of list) wanted.add(a);
    for (const address of wanted) {
      if (this.slots.has(address)) continue;
      const slot: BrokerSlot = { address, connection: null, topics: new Set(), listed: true, reconnectAttempt: 0, timer: null, connecting: null };
      this.slots.set(address, slot);
      this.connectSlot(slot);
    }
    for (const slot of this.slots.values()) {
      slot.listed = wanted.has(slot.address);
      if (!slot.listed) {
        if (!slot.connection?.ready) this.dropSlot(slot);
        continue; // keeps the topics it served
      }
      slot.topics.clear();
      for (const [t, list] of this.brokersByTopic) if (list.includes(slot.address)) slot.topics.add(t);
    }
  }

  private dropSlot(slot: BrokerSlot): void {
    this.slots.delete(slot.address);
    if (slot.timer) clearTimeout(slot.timer);
    slot.connection?.close();
    this.log.info({ address: slot.address }, 'broker left the registry; disconnected');
  }

  private connectSlot(slot: BrokerSlot): void {
    if (this.closed) return;
    const connection = new BrokerConnection(slot.address, {
      groupId: this.options.groupId,
      secretKey: this.options.secretKey,
      warmingupSec: this.options.warmingupSec ?? 0,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 5000,
      heartbeatMs: this.options.heartbeatMs ?? 10_000,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 3000,
      tls: this.options.tls,
      onServerRequest: (conn, frame) => this.onServerRequest(conn, frame),
      onClose: (conn) => this.onConnectionClosed(slot, conn),
    });
    slot.connection = connection;
    slot.connecting = connection.connect().then(
      () => {
        slot.reconnectAttempt = 0;
        this.log.info({ address: slot.address }, 'connected to broker');
      },
      (error: Error) => {
        if (error instanceof BrokerRejectedError) this.authError = error;
        this.log.warn({ address: slot.address, err: error.message }, 'broker connection failed');
        connection.close();
      },
    );
  }

  private onConnectionClosed(slot: BrokerSlot, connection: BrokerConnection): void {
    if (this.closed || slot.connection !== connection || this.slots.get(slot.address) !== slot) return;
    if (!slot.listed) return this.dropSlot(slot); // gone from the registry and now closed: forget it
    if (this.authError) return; // a wrong key does not get better by retrying
    const delay = backoffDelayMs(slot.reconnectAttempt++, { ...DEFAULT_RETRY, initialDelayMs: 200, maxDelayMs: 5000 });
    slot.timer = setTimeout(() => {
      slot.timer = null;
      this.connectSlot(slot);
    }, delay);
  }

  private pickConnection(topic: string, exclude: Set<string> | null): BrokerConnection {
    // Preference: listed and not yet tried; then listed; then any still-connected broker.
    const ready: BrokerConnection[] = [];
    const usable = (slot: BrokerSlot) => slot.connection?.ready === true && slot.topics.has(topic);
    for (const slot of this.slots.values()) if (usable(slot) && slot.listed && !exclude?.has(slot.address)) ready.push(slot.connection!);
    if (ready.length === 0) for (const slot of this.slots.values()) if (usable(slot) && slot.listed) ready.push(slot.connection!);
    if (ready.length === 0) for (const slot of this.slots.values()) if (usable(slot)) ready.push(slot.connection!);
    if (ready.length === 0) throw new ConnectionClosedError(`no connected broker serves topic "${topic}"`);
    return ready[this.roundRobin++ % ready.length];
  }

  /** Publishes a message; resolves once a broker stored it (store-ack true), else rejects. */
  async send(message: Message): Promise<SendResult> {
    // the caller's header is not ours to change: copy it only to fill in our group
    const header = message.header.groupId ? message.header : { ...message.header, groupId: this.options.groupId };
    let body: Uint8Array;
    if (message.kind === 'string') {
      body = encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: header.snappy ? compressString(message.body) : message.body });
    } else {
      body = encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: header.snappy ? compressBytes(message.body) : message.body });
    }
    const cmdType = message.kind === 'string' ? CmdType.STRING_MESSAGE : CmdType.BYTES_MESSAGE;
    // The common case, one try on a healthy connection, allocates no retry state.
    try {
      return await this.publishOnce(cmdType, body, header.topic, null);
    } catch (error) {
      if (!isRetriable(error) || this.retryOptions.retries === 0) throw error;
    }
    const tried = new Set<string>();
    return retry(() => this.publishOnce(cmdType, body, header.topic, tried), this.retryOptions);
  }

  /** One publish on one connection; `tried` (on retries) steers away from brokers already tried. */
  private async publishOnce(cmdType: number, body: Uint8Array, topic: string, tried: Set<string> | null): Promise<SendResult> {
    const connection = this.pickConnection(topic, tried);
    tried?.add(connection.address);
    const reply = await connection.request(cmdType, body, 'publish');
    const ack = decodeStoreAck(reply.body);
    if (!ack.status) throw new BrokerRejectedError(ack.feedback, isRetriableFeedback(ack.feedback), connection.address);
    return { messageId: ack.messageId, status: ack.status, feedback: ack.feedback, broker: connection.address };
  }

  sendStringMessage(message: Message): Promise<SendResult> {
    return this.send(message);
  }

  sendBytesMessage(message: Message): Promise<SendResult> {
    return this.send(message);
  }

  /**
   * Two-phase publish (design §7): store the message prepared (commit=false), run the local
   * transaction, then commit on success or roll back on error/false. Resolves with the decision.
   */
  async sendTxMessage(message: Message, localTx: (message: Message) => boolean | void | Promise<boolean | void>): Promise<'commit' | 'rollback'> {
    const prepared = { ...message, header: { ...message.header, commit: false, fly: false, groupId: message.header.groupId || this.options.groupId } } as Message;
    await this.send(prepared);
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
    this.sendTxDecision(prepared, decision, feedback);
    return decision;
  }

  /** Sends a TX_ACK decision to every connected broker of the topic (only the one holding it acts). */
  private sendTxDecision(message: Message, decision: 'commit' | 'rollback', feedback: string): void {
    const body = encodeTxAck({ header: message.header, status: decision === 'commit' ? TxStatus.COMMIT : TxStatus.ROLLBACK, feedback });
    let sent = false;
    for (const slot of this.slots.values()) {
      const connection = slot.connection;
      if (!connection?.ready || !slot.topics.has(message.header.topic)) continue;
      connection.send(connection.allocOpaque(), CmdType.TX_ACK, body);
      sent = true;
    }
    if (!sent) this.log.warn({ messageId: message.header.messageId, decision }, 'no broker connected for the tx decision; the broker will check back');
  }

  private onServerRequest(connection: BrokerConnection, frame: Frame): void {
    if (frame.cmdType === CmdType.BYTES_MESSAGE || frame.cmdType === CmdType.STRING_MESSAGE) {
      void this.onDelivery(connection, frame);
    } else if (frame.cmdType === CmdType.TX_ACK) {
      void this.onTxCheck(connection, frame);
    }
  }

  private async onDelivery(connection: BrokerConnection, frame: Frame): Promise<void> {
    let status = false;
    let feedback = '';
    const decoded = decodeMessage(frame.cmdType as 0x11 | 0x12, frame.body);
    const { header } = decoded;
    try {
      const message: Message =
        decoded.cmdType === CmdType.STRING_MESSAGE
          ? { kind: 'string', header, body: header.snappy ? uncompressString(decoded.body) : decoded.body }
          : { kind: 'bytes', header, body: header.snappy ? uncompressBytes(decoded.body) : Buffer.from(decoded.body) };
      if (!this.listener) feedback = 'no message listener';
      else status = (await this.listener(message)) === true;
    } catch (error) {
      feedback = (error as Error)?.message ?? String(error);
    }
    // Our own (consumer) group in groupId; the broker matches the ack by opaque (design §2).
    const ack = encodeDeliverAck({ messageId: header.messageId, topic: header.topic, messageType: header.messageType, groupId: this.options.groupId, status, feedback });
    connection.send(frame.opaque, CmdType.DELIVER_ACK, ack);
  }

  private async onTxCheck(connection: BrokerConnection, frame: Frame): Promise<void> {
    const check: TxAck = decodeTxAck(frame.body);
    let decision: TxDecision = 'unknown';
    let feedback = '';
    try {
      if (this.txCheckListener) decision = await this.txCheckListener({ header: check.header });
      else feedback = 'no tx check listener';
    } catch (error) {
      feedback = (error as Error)?.message ?? String(error);
    }
    const status = decision === 'commit' ? TxStatus.COMMIT : decision === 'rollback' ? TxStatus.ROLLBACK : TxStatus.UNKNOWN;
    // design §2: the answer to a check-back carries the server's opaque.
    connection.send(frame.opaque, CmdType.TX_ACK, encodeTxAck({ header: check.header, status, feedback }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.connection?.close();
    }
    this.slots.clear();
    if (this.ownsRegistry) await this.registry.close();
  }
}

export { KiteQError };
