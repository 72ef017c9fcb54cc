// What brokers ask of the client: deliveries (answered with a DeliverAck) and tx check-backs
// (answered with a TX_ACK), both carrying the broker's opaque (doc/protocol.md). The body is
// decoded synchronously in the connection's data handler, so an undecodable packet closes that
// connection (client/connection.ts); the async part never rejects.
import { CmdType, isMessageCmd } from '../protocol/commands';
import type { Frame } from '../protocol/frame-decoder';
import type { MessageHeader } from '../protocol/messages/header';
import { decodeMessage, type KiteMessage } from '../protocol/messages/message';
import { asBuffer } from '../protocol/messages/proto-reader';
import { decodeTxAck, encodeTxAck, TxStatus } from '../protocol/messages/tx-ack';
import { AckSuffixes } from './ack-suffixes';
import type { BrokerConnection } from './connection';
import type { ClientEventHub } from './events';
import type { InFlight } from './in-flight';
import type { Message } from './message-builder';
import type { MessageListener, TxCheckListener, TxDecision } from './options';
import { uncompressBytes, uncompressString } from './snappy';

export interface InboundDeps {
  /** our consumer group, named in every DeliverAck */
  groupId: string;
  events: ClientEventHub;
  /** listener and check-back calls running (close({ drain: true }) waits for them) */
  inFlight: InFlight;
  listener(): MessageListener | undefined;
  txCheckListener(): TxCheckListener | undefined;
  /** true while closing: deliveries are refused at once, to be redelivered */
  refusing(): boolean;
}

export class Inbound {
  private readonly ackSuffixes: AckSuffixes;

  constructor(private readonly deps: InboundDeps) {
    this.ackSuffixes = new AckSuffixes(deps.groupId);
  }

  /** For BrokerConnection's onServerRequest; throws on an undecodable body. */
  readonly onServerRequest = (connection: BrokerConnection, frame: Frame): void => {
    if (isMessageCmd(frame.cmdType)) {
      const decoded = decodeMessage(frame.cmdType, frame.body);
      if (this.deps.refusing()) return this.ack(connection, frame.opaque, decoded.header, false, 'consumer closing');
      this.deliver(connection, frame.opaque, decoded);
    } else if (frame.cmdType === CmdType.TX_ACK) {
      void this.answerCheck(connection, frame.opaque, decodeTxAck(frame.body).header);
    }
  };

  /**
   * A throw (or rejection) of the listener becomes a negative ack (redelivered later) and an 'error'
   * event. A listener that answers synchronously is acked at once: no promise per delivery.
   */
  private deliver(connection: BrokerConnection, opaque: number, decoded: KiteMessage): void {
    const { header } = decoded;
    this.deps.inFlight.begin();
    let answer: boolean | Promise<boolean>;
    try {
      const message: Message =
        decoded.cmdType === CmdType.STRING_MESSAGE
          ? { kind: 'string', header, body: header.snappy ? uncompressString(decoded.body) : decoded.body }
          : { kind: 'bytes', header, body: header.snappy ? uncompressBytes(decoded.body) : asBuffer(decoded.body) };
      const listener = this.deps.listener();
      if (!listener) return this.answered(connection, opaque, header, false, 'no message listener');
      answer = listener(message);
    } catch (error) {
      return this.threw(connection, opaque, header, error);
    }
    const pending = answer as unknown as PromiseLike<boolean> | undefined;
    if (typeof pending?.then === 'function')
      Promise.resolve(pending).then(
        (status) => this.answered(connection, opaque, header, status === true, ''),
        (error: unknown) => this.threw(connection, opaque, header, error),
      );
    else this.answered(connection, opaque, header, answer === true, '');
  }

  private threw(connection: BrokerConnection, opaque: number, header: MessageHeader, error: unknown): void {
    this.report(error, connection, header);
    this.answered(connection, opaque, header, false, (error as Error)?.message ?? String(error));
  }

  /** Sends the ack of a delivery whose listener call is over. */
  private answered(
    connection: BrokerConnection,
    opaque: number,
    header: MessageHeader,
    status: boolean,
    feedback: string,
  ): void {
    try {
      this.ack(connection, opaque, header, status, feedback);
    } catch (error) {
      this.report(error, connection, header);
    } finally {
      this.deps.inFlight.end();
    }
  }

  /** Our own (consumer) group in groupId; the broker matches the ack by opaque. Written in place. */
  private ack(
    connection: BrokerConnection,
    opaque: number,
    header: MessageHeader,
    status: boolean,
    feedback: string,
  ): void {
    if (status && feedback === '')
      return connection.sendPositiveAck(
        opaque,
        header.messageId,
        this.ackSuffixes.of(header.topic, header.messageType),
      );
    connection.sendDeliverAck(opaque, {
      messageId: header.messageId,
      topic: header.topic,
      messageType: header.messageType,
      groupId: this.deps.groupId,
      status,
      feedback,
    });
  }

  /** A throw of the check-back handler answers 'unknown' (asked again later) and emits 'error'. */
  private async answerCheck(connection: BrokerConnection, opaque: number, header: MessageHeader): Promise<void> {
    let decision: TxDecision = 'unknown';
    let feedback = '';
    this.deps.inFlight.begin();
    try {
      const check = this.deps.txCheckListener();
      if (check) decision = await check({ header });
      else feedback = 'no tx check listener';
    } catch (error) {
      feedback = (error as Error)?.message ?? String(error);
      this.report(error, connection, header);
    }
    const status =
      decision === 'commit' ? TxStatus.COMMIT : decision === 'rollback' ? TxStatus.ROLLBACK : TxStatus.UNKNOWN;
    try {
      connection.send(opaque, CmdType.TX_ACK, encodeTxAck({ header, status, feedback }));
    } catch (error) {
      this.report(error, connection, header);
    } finally {
      this.deps.inFlight.end();
    }
  }

  private report(error: unknown, connection: BrokerConnection, header: MessageHeader): void {
    this.deps.events.emit('error', () => ({
      error: error instanceof Error ? error : new Error(String(error)),
      broker: connection.address,
      messageId: header.messageId,
    }));
  }
}
