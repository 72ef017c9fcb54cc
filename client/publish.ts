// One send() (doc/client.md "Producer"): the packet, and the one promise the caller holds. The first
// try waits for its store-ack as the connection's ReplyWaiter, so a send on a healthy connection
// costs that promise and this object, no promise chain; a retriable failure hands over to the
// retrier (client/retry.ts), which tries other brokers with the same messageId (doc/reliability.md).
import { CmdType } from '../protocol/commands';
import type { Frame } from '../protocol/frame-decoder';
import { MessagePacket } from '../protocol/messages/message';
import { decodeStoreAck, type MessageStoreAck } from '../protocol/messages/store-ack';
import { isRetriableFeedback } from '../protocol/reasons';
import type { BrokerConnection, ReplyWaiter } from './connection';
import { BrokerRejectedError, ConnectionClosedError } from './errors';
import type { InFlight } from './in-flight';
import type { Message } from './message-builder';
import { isRetriable, retry, type RetryOptions } from './retry';
import { compressBytes, compressString } from './snappy';

/** The broker's store-ack, and which broker (host:port) stored the message. */
export type SendResult = MessageStoreAck & { broker: string };

/** What a send needs of its client. */
export interface Publisher {
  /** the connection for a try; throws (ConnectionClosedError, ClientClosedError) when there is none */
  connectionFor(topic: string, tried: Set<string> | null): BrokerConnection;
  /** one try on one connection (the retries) */
  publishOnce(packet: MessagePacket, topic: string, tried: Set<string> | null): Promise<SendResult>;
  readonly sends: InFlight;
  readonly sendRetry: RetryOptions;
}

/** The publish packet of a message; a header without a group gets `groupId` (in a copy: it is the caller's). */
export function packetOf(message: Message, groupId: string): MessagePacket {
  const header = message.header.groupId ? message.header : { ...message.header, groupId };
  return message.kind === 'string'
    ? new MessagePacket(CmdType.STRING_MESSAGE, header, header.snappy ? compressString(message.body) : message.body)
    : new MessagePacket(CmdType.BYTES_MESSAGE, header, header.snappy ? compressBytes(message.body) : message.body);
}

/** The send's result from the broker's reply; throws a retriable error for an undecodable one, BrokerRejectedError for a refusal. */
export function storeAckResult(connection: BrokerConnection, reply: Frame): SendResult {
  let ack: MessageStoreAck;
  try {
    ack = decodeStoreAck(reply.body);
  } catch (error) {
    throw connection.fail(error); // retriable: the same messageId on another connection
  }
  if (!ack.status) throw new BrokerRejectedError(ack.feedback, isRetriableFeedback(ack.feedback), connection.address);
  return { messageId: ack.messageId, status: ack.status, feedback: ack.feedback, broker: connection.address };
}

/** A send in flight: counted in `sends` from its start until its promise settles. */
export class Publish implements ReplyWaiter {
  sentAtMs = 0;
  readonly what = 'publish';
  private connection: BrokerConnection | null = null;

  constructor(
    private readonly publisher: Publisher,
    private readonly packet: MessagePacket,
    private readonly resolve: (result: SendResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    publisher.sends.begin();
  }

  /** The first try; a failure before the packet left goes the way of a failed reply. */
  start(): void {
    const topic = this.packet.header.topic;
    let connection: BrokerConnection;
    try {
      connection = this.publisher.connectionFor(topic, null);
    } catch (error) {
      return this.failed(error as Error);
    }
    this.connection = connection;
    if (!connection.requestTo(this.packet.cmdType, this.packet, this))
      this.failed(new ConnectionClosedError(`not connected to ${connection.address}`));
  }

  replied(frame: Frame): void {
    let result: SendResult;
    try {
      result = storeAckResult(this.connection!, frame);
    } catch (error) {
      return this.failed(error as Error);
    }
    this.publisher.sends.end();
    this.resolve(result);
  }

  /** Retriable: the retrier takes over, after this tick (the connection may be closing right now). */
  failed(error: Error): void {
    if (!isRetriable(error) || this.publisher.sendRetry.retries === 0) return this.settleFailed(error);
    const { publisher, packet } = this;
    const tried = new Set<string>();
    Promise.resolve()
      .then(() => retry(() => publisher.publishOnce(packet, packet.header.topic, tried), publisher.sendRetry))
      .then(
        (result) => {
          publisher.sends.end();
          this.resolve(result);
        },
        (retryError: unknown) => this.settleFailed(retryError),
      );
  }

  private settleFailed(error: unknown): void {
    this.publisher.sends.end();
    this.reject(error);
  }
}
