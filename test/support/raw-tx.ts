// Producer and consumer moves spoken on a RawClient (test/support/raw-client.ts) for the
// transactional adversary tests: publish, decide, see check-backs and deliveries, ack them.
import { CmdType } from '../../protocol/commands';
import type { Frame } from '../../protocol/frame-decoder';
import { encodeDeliverAck } from '../../protocol/messages/deliver-ack';
import type { MessageHeader } from '../../protocol/messages/header';
import { decodeMessage } from '../../protocol/messages/message';
import { decodeStoreAck, type MessageStoreAck } from '../../protocol/messages/store-ack';
import { decodeTxAck, encodeTxAck, type TxAck, type TxStatusCode } from '../../protocol/messages/tx-ack';
import { encodeMessage } from '../../protocol/messages/message';
import type { RawClient } from './raw-client';

/** Publishes a string message and resolves with the broker's MessageStoreAck for it. */
export async function publish(
  client: RawClient,
  opaque: number,
  header: MessageHeader,
  body = 'paid',
): Promise<MessageStoreAck> {
  client.sendPacket(opaque, CmdType.STRING_MESSAGE, encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body }));
  return decodeStoreAck(
    (await client.next((f) => f.cmdType === CmdType.MESSAGE_STORE_ACK && f.opaque === opaque)).body,
  );
}

/** A TX_ACK decision with the client's own opaque (KiteQ's sendTxAck: no reply awaited). */
export function decide(
  client: RawClient,
  opaque: number,
  header: MessageHeader,
  status: TxStatusCode,
  feedback = '',
): void {
  client.sendPacket(opaque, CmdType.TX_ACK, encodeTxAck({ header, status, feedback }));
}

/** Is this frame the broker's check-back (TX_ACK from the server) about messageId? */
export function isCheckBack(messageId: string): (f: Frame) => boolean {
  return (f) => f.cmdType === CmdType.TX_ACK && decodeTxAck(f.body).header.messageId === messageId;
}

/** The next check-back about messageId, with the server's opaque to answer on. */
export async function nextCheckBack(
  client: RawClient,
  messageId: string,
  timeoutMs: number,
): Promise<{ opaque: number; ack: TxAck }> {
  const frame = await client.next(isCheckBack(messageId), timeoutMs);
  return { opaque: frame.opaque, ack: decodeTxAck(frame.body) };
}

/** Is this frame a delivery of messageId? */
export function isDeliveryOf(messageId: string): (f: Frame) => boolean {
  return (f) =>
    (f.cmdType === CmdType.STRING_MESSAGE || f.cmdType === CmdType.BYTES_MESSAGE) &&
    decodeMessage(f.cmdType, f.body).header.messageId === messageId;
}

/** Acks a delivery frame as consumer group `groupId` would. */
export function ackDelivery(client: RawClient, frame: Frame, groupId: string): void {
  const { header } = decodeMessage(frame.cmdType as typeof CmdType.STRING_MESSAGE, frame.body);
  client.sendPacket(
    frame.opaque,
    CmdType.DELIVER_ACK,
    encodeDeliverAck({
      messageId: header.messageId,
      topic: header.topic,
      messageType: header.messageType,
      groupId,
      status: true,
    }),
  );
}
