// The narrow view of a connection that pipeline stages see (style: handler never imports server/).
// server/session.ts implements it.

import type { PacketBody } from '../protocol/frame-writer';
import type { TxAck } from '../protocol/messages/tx-ack';
import type { StoredMessage } from '../store/contract';

/** A delivery packet body: written straight into the connection's outgoing buffer (no copy of its own). */
export type { PacketBody };

export interface PendingReply {
  /** the DeliverAck (or TX_ACK answer) arrived: status true = consumed / committed */
  resolve(status: boolean, feedback?: string): void;
  /**
   * The delivery never left the broker (a gateway pull consumer released with it still queued,
   * doc/http-gateway.md "Pull consume"): the group waits for it as for a group with no consumer,
   * and the attempt is not counted when it reached no group at all.
   */
  handBack?(): void;
}

/**
 * What the deliver stage hands a consumer: the packet body a connection writes, and the decoded
 * message for a consumer that is not a connection (the HTTP gateway's pull and webhook consumers,
 * doc/http-gateway.md). handler/delivery-job.ts implements it.
 */
export interface Delivery extends PacketBody {
  readonly message: StoredMessage;
  /** 1 for the first attempt */
  readonly attempt: number;
}

export interface SessionPort {
  readonly id: number;
  /** remote host:port, for log lines */
  readonly remote: string;
  readonly groupId: string;
  readonly authenticated: boolean;
  /** unix ms when CONN_AUTH succeeded */
  readonly authAtMs: number;
  readonly warmingupSec: number;
  readonly closed: boolean;
  /** a consumer of the HTTP gateway, not a connection: no tx check-back goes to it (doc/http-gateway.md) */
  readonly gateway?: boolean;

  sendStoreAck(opaque: number, messageId: string, status: boolean, feedback: string): void;
  /** Sends a delivery; the reply (DeliverAck with the same opaque) or a timeout settles `pending`. */
  deliver(cmdType: number, body: Delivery, pending: PendingReply): void;
  /** Sends a tx check-back (TX_ACK status unknown); the producer's TX_ACK with the same opaque settles it. */
  checkBack(ack: TxAck, pending: PendingReply): void;
  /** Closes the connection after a protocol violation or auth failure (the broker carries on). */
  close(reason: string): void;
  /** Closes at once after an unexpected error while handling its packet: logged once, with the stage. */
  failed(stage: string, error: unknown): void;
}
