// A connection as the handler stages see it (handler/session-port.ts and the accept/access
// extensions), recording what a stage asked of it: the stage tests build each stage alone.
import type { AcceptingSession } from '../../handler/accept';
import type { AuthenticatingSession } from '../../handler/access';
import type { PacketBody, PendingReply } from '../../handler/session-port';
import type { ConnMeta } from '../../protocol/messages/conn-meta';
import type { TxAck } from '../../protocol/messages/tx-ack';

export interface StoreAckSent {
  opaque: number;
  messageId: string;
  status: boolean;
  feedback: string;
}

export class RecordingSession implements AcceptingSession, AuthenticatingSession {
  static nextId = 1;
  readonly id = RecordingSession.nextId++;
  readonly remote = '127.0.0.1:50000';
  groupId: string;
  authenticated: boolean;
  authAtMs = 0;
  warmingupSec = 0;
  closed = false;

  readonly storeAcks: StoreAckSent[] = [];
  readonly connAuths: { opaque: number; status: boolean; feedback: string }[] = [];
  readonly deliveries: { cmdType: number; body: PacketBody; pending: PendingReply }[] = [];
  readonly heartbeats: number[] = [];
  readonly closeReasons: string[] = [];
  /** opaque → pending reply, as server/session.ts keeps them */
  readonly pending = new Map<number, { status?: boolean; feedback?: string }>();
  readonly checkBacksSettled: { opaque: number; messageId: string }[] = [];

  constructor(options: { groupId?: string; authenticated?: boolean; authAtMs?: number; warmingupSec?: number } = {}) {
    this.groupId = options.groupId ?? '';
    this.authenticated = options.authenticated ?? false;
    this.authAtMs = options.authAtMs ?? 0;
    this.warmingupSec = options.warmingupSec ?? 0;
  }

  sendStoreAck(opaque: number, messageId: string, status: boolean, feedback: string): void {
    this.storeAcks.push({ opaque, messageId, status, feedback });
  }

  deliver(cmdType: number, body: PacketBody, pending: PendingReply): void {
    this.deliveries.push({ cmdType, body, pending });
  }

  checkBack(_ack: TxAck, _pending: PendingReply): void {}

  close(reason: string): void {
    this.closed = true;
    this.closeReasons.push(reason);
  }

  failed(stage: string, error: unknown): void {
    this.close(`${stage}: ${String(error)}`);
  }

  echoHeartbeat(opaque: number): void {
    this.heartbeats.push(opaque);
  }

  settlePending(opaque: number, status: boolean, feedback?: string): boolean {
    const reply = this.pending.get(opaque);
    if (!reply || reply.status !== undefined) return false;
    reply.status = status;
    reply.feedback = feedback;
    return true;
  }

  settleCheckBack(opaque: number, messageId: string): boolean {
    this.checkBacksSettled.push({ opaque, messageId });
    return false;
  }

  replyConnAuth(opaque: number, status: boolean, feedback: string): void {
    this.connAuths.push({ opaque, status, feedback });
  }

  markAuthenticated(meta: ConnMeta): void {
    this.authenticated = true;
    this.groupId = meta.groupId;
    this.warmingupSec = meta.warmingupSec ?? 0;
  }
}
