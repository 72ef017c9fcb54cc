// One gateway request seen as a connection by the pipeline (handler/session-port.ts): an
// authenticated producer that sends one publish (or one tx decision) and takes the answer the
// stages give a connection — the MessageStoreAck — as the HTTP answer (doc/http-gateway.md).
// It never consumes: it is in no session table, so no delivery or check-back reaches it.
import type { AcceptingSession } from '../../handler/accept';
import type { PacketBody, PendingReply } from '../../handler/session-port';
import type { TxAck } from '../../protocol/messages/tx-ack';

/** What the stages answered: a store-ack, or an unexpected error met while handling the request. */
export type StoreAnswer =
  | { kind: 'ack'; messageId: string; status: boolean; feedback: string }
  | { kind: 'failed'; stage: string; error: unknown };

/** Negative ids: never one of a TCP connection's (server/session.ts counts up from 1). */
let nextId = -1;

export class RequestSession implements AcceptingSession {
  readonly id = nextId--;
  readonly authenticated = true;
  readonly warmingupSec = 0;
  readonly authAtMs: number;
  closed = false;
  /** settled once, by the first answer */
  readonly answer: Promise<StoreAnswer>;
  private settle!: (answer: StoreAnswer) => void;

  constructor(
    readonly groupId: string,
    readonly remote: string,
    nowMs: number,
  ) {
    this.authAtMs = nowMs;
    this.answer = new Promise((resolve) => (this.settle = resolve));
  }

  sendStoreAck(_opaque: number, messageId: string, status: boolean, feedback: string): void {
    this.settle({ kind: 'ack', messageId, status, feedback });
  }

  failed(stage: string, error: unknown): void {
    this.closed = true;
    this.settle({ kind: 'failed', stage, error });
  }

  close(reason: string): void {
    this.failed('accept', new Error(reason));
  }

  deliver(_cmdType: number, _body: PacketBody, pending: PendingReply): void {
    pending.resolve(false, 'an HTTP request does not consume');
  }

  checkBack(_ack: TxAck, pending: PendingReply): void {
    pending.resolve(false, 'an HTTP request answers no check-back');
  }

  echoHeartbeat(): void {}

  settlePending(): boolean {
    return false;
  }

  settleCheckBack(): boolean {
    return false;
  }
}
