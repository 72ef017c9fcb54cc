// doc/architecture.md §5 "decode": a frame from a client becomes a typed packet. Commands a client never
// sends (CONN_AUTH, MESSAGE_STORE_ACK) are protocol violations; an undecodable body throws.
import { CmdType } from '../protocol/commands';
import { ProtocolError } from '../protocol/errors';
import type { Frame } from '../protocol/frame-decoder';
import { type ConnMeta, decodeConnMeta } from '../protocol/messages/conn-meta';
import { decodeDeliverAckReply } from '../protocol/messages/deliver-ack';
import { type HeartBeat, decodeHeartBeat } from '../protocol/messages/heartbeat';
import { type KiteMessage, decodeMessage } from '../protocol/messages/message';
import { type TxAck, decodeTxAck } from '../protocol/messages/tx-ack';

/** The fields of a DeliverAck the broker uses (protocol/messages/deliver-ack.ts DeliverAckReply). */
export interface DeliverAckFields {
  readonly status: boolean;
  readonly feedback?: string;
  /** for a late ack's log line only */
  readonly messageId: string;
}

export type ClientPacket =
  | { kind: 'connMeta'; opaque: number; meta: ConnMeta }
  | { kind: 'heartbeat'; opaque: number; heartbeat: HeartBeat; raw: Buffer }
  | { kind: 'publish'; opaque: number; message: KiteMessage; raw: Buffer }
  | { kind: 'deliverAck'; opaque: number; ack: DeliverAckFields }
  | { kind: 'txAck'; opaque: number; ack: TxAck };

export function decodeClientFrame({ opaque, cmdType, body }: Frame): ClientPacket {
  switch (cmdType) {
    case CmdType.CONN_META:
      return { kind: 'connMeta', opaque, meta: decodeConnMeta(body) };
    case CmdType.HEARTBEAT:
      return { kind: 'heartbeat', opaque, heartbeat: decodeHeartBeat(body), raw: body };
    case CmdType.BYTES_MESSAGE:
    case CmdType.STRING_MESSAGE:
      return { kind: 'publish', opaque, message: decodeMessage(cmdType, body), raw: body };
    case CmdType.DELIVER_ACK:
      return { kind: 'deliverAck', opaque, ack: decodeDeliverAckReply(body) };
    case CmdType.TX_ACK:
      return { kind: 'txAck', opaque, ack: decodeTxAck(body) };
    default:
      throw new ProtocolError(`cmdType 0x${cmdType.toString(16)} is not sent by clients`, 'direction');
  }
}
