// The narrow view of a connection that pipeline stages see (style: handler never imports server/).
// server/session.ts implements it.

import type { PacketBody } from '../protocol/frame-writer';
import type { TxAck } from '../protocol/messages/tx-ack';

/** A delivery packet body: written straight into the connection's outgoing buffer (no copy of its own). */
export type { PacketBody };

export interface PendingReply {
  /** the DeliverAck (or TX_ACK answer) arrived: status true = consumed / committed */
  resolve(status: boolean, feedback?: string): void;
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

  sendStoreAck(opaque: number, messageId: string, status: boolean, feedback: string): void;
  /** Sends a delivery; the reply (DeliverAck with the same opaque) or a timeout settles `pending`. */
  deliver(cmdType: number, body: PacketBody, pending: PendingReply): void;
  /** Sends a tx check-back (TX_ACK status unknown); the producer's TX_ACK with the same opaque settles it. */
  checkBack(ack: TxAck, pending: PendingReply): void;
  /** Closes the connection after a protocol violation or auth failure (the broker carries on). */
  close(reason: string): void;
  /** Closes at once after an unexpected error while handling its packet: logged once, with the stage. */
  failed(stage: string, error: unknown): void;
}
