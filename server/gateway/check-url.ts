// Check-backs at a group's checkUrl (doc/http-gateway.md "Transactions"): a group whose groups-file
// entry has `checkUrl` is asked about its prepared messages by HTTP POST instead of on a producer
// connection. To the check-back scheduler (server/tx-checker.ts) the URL is that group's one
// producer (a SessionPort); its answer body — commit, rollback or unknown — goes to the tx-ack
// stage as a producer's TX_ACK would. A failure, a timeout or any other answer counts as unknown:
// the usual back-off and maximum number of checks apply.
import type { PacketBody, PendingReply, SessionPort } from '../../handler/session-port';
import type { TxAckSession, TxOutcome } from '../../handler/tx-ack';
import type { MessageHeader } from '../../protocol/messages/header';
import { type TxAck, TxStatus } from '../../protocol/messages/tx-ack';
import type { GroupAccess } from '../groups';
import type { Logger } from '../logger';

/** A checkUrl that has not answered within this counts as "unknown". */
export const CHECK_URL_TIMEOUT_MS = 5000;
/** Of an answer body, only this much is read: `commit`, `rollback` or `unknown`. */
const MAX_ANSWER_CHARS = 64;

export interface CheckUrlDeps {
  /** read per check: a reload's checkUrl applies to the next one */
  access: () => GroupAccess;
  /** the tx-ack stage (server/pipeline.ts txAck) */
  txAck: (ack: TxAck, session: TxAckSession, opaque: number) => Promise<TxOutcome>;
  log: Logger;
  nowMs: () => number;
  timeoutMs?: number;
}

/** The JSON body of a check-back POST: the stored message's header. */
export function checkBackBody(header: MessageHeader): string {
  const properties: Record<string, string> = {};
  for (const { key, value } of header.properties) properties[key] = value;
  return JSON.stringify({
    messageId: header.messageId,
    topic: header.topic,
    messageType: header.messageType,
    groupId: header.groupId,
    createTime: header.createTime,
    expiredTime: header.expiredTime,
    properties,
  });
}

/** The decision in a checkUrl's answer body. */
export function parseCheckAnswer(body: string): number {
  const word = body.slice(0, MAX_ANSWER_CHARS).trim().toLowerCase();
  if (word === 'commit') return TxStatus.COMMIT;
  if (word === 'rollback') return TxStatus.ROLLBACK;
  return TxStatus.UNKNOWN;
}

/** Ids of checkUrl producers: negative, apart from connections' (from 1 up) and requests' (from -1 down). */
let nextId = -1_000_000_000;

class CheckUrlProducer implements SessionPort {
  readonly id = nextId--;
  readonly authenticated = true;
  readonly authAtMs = 0;
  readonly warmingupSec = 0;
  readonly closed = false;
  readonly remote: string;

  constructor(
    readonly groupId: string,
    readonly url: string,
    private readonly deps: CheckUrlDeps,
  ) {
    this.remote = url;
  }

  checkBack(ack: TxAck, pending: PendingReply): void {
    void this.ask(ack.header).then((status) => {
      pending.resolve(status !== TxStatus.UNKNOWN);
      // The answer is a decision like a producer's TX_ACK; unknown also tells the registry it was answered.
      return this.deps.txAck({ header: ack.header, status, feedback: 'checkUrl' }, this, 0);
    });
  }

  private async ask(header: MessageHeader): Promise<number> {
    const { log, timeoutMs = CHECK_URL_TIMEOUT_MS } = this.deps;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'kiteq-message-id': header.messageId },
        body: checkBackBody(header),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) {
        log.warn(
          { groupId: this.groupId, messageId: header.messageId, status: response.status },
          'tx check-back: checkUrl answered an error status (counted as unknown)',
        );
        return TxStatus.UNKNOWN;
      }
      return parseCheckAnswer(text);
    } catch (error) {
      log.warn(
        { groupId: this.groupId, messageId: header.messageId, err: (error as Error).message },
        'tx check-back: checkUrl unreachable or too slow (counted as unknown)',
      );
      return TxStatus.UNKNOWN;
    }
  }

  sendStoreAck(): void {} // a refusal of the decision (not the publishing group) cannot happen: the group is the message's

  deliver(_cmdType: number, _body: PacketBody, pending: PendingReply): void {
    pending.resolve(false, 'a checkUrl does not consume');
  }

  close(): void {}

  failed(stage: string, error: unknown): void {
    this.deps.log.error({ err: error, stage, groupId: this.groupId }, 'tx check-back at a checkUrl failed');
  }
}

/** The checkUrl producer of each group that has one. */
export class CheckUrls {
  private readonly byGroup = new Map<string, CheckUrlProducer>();

  constructor(private readonly deps: CheckUrlDeps) {}

  /** The group's checkUrl as its only producer, or undefined when it has none (its connections are asked). */
  producersOf(groupId: string): readonly SessionPort[] | undefined {
    const url = this.deps.access().checkUrlOf(groupId);
    if (url === undefined) return undefined;
    let producer = this.byGroup.get(groupId);
    if (producer?.url !== url) this.byGroup.set(groupId, (producer = new CheckUrlProducer(groupId, url, this.deps)));
    return [producer];
  }
}
