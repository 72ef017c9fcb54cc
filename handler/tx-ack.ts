// doc/architecture.md §5 "tx-ack" and §7: a producer's TX_ACK decides a prepared message. Commit makes it
// deliverable at once; rollback deletes it; unknown (only meaningful as a check-back answer)
// leaves it to the check-back scheduler, which asks again after the back-off. A TX_ACK is a
// decision whether the producer sends it by itself after its local transaction or in answer to
// our check-back (KiteQ's client answers with the server's opaque: doc/architecture.md §2); either way every
// move goes through the table of tx-states.ts, so a rollback of a committed message, say, is
// refused there rather than deleting a message that may already be delivered.
//
// Only the message's publishing group decides it: a commit or rollback from a connection of any
// other group changes nothing and is answered with MessageStoreAck{false, notPublishingGroup} on the
// TX_ACK's opaque (no KiteQ client waits on that opaque, so a legitimate client never sees it).
import { TxStatus, type TxAck } from '../protocol/messages/tx-ack';
import { Reasons } from '../protocol/reasons';
import type { MessageStore } from '../store/contract';
import type { InFlightSet } from './delivery-in-flight';
import type { DeliveryRequest } from './events';
import type { TxCheckRegistry } from './tx-check-registry';
import type { TxSerial } from './tx-serial';
import { IllegalTxMove, nextTxState, type TxEvent, txStateOf } from './tx-states';

export type TxOutcome =
  'commit' | 'rollback' | 'unknown' | 'unknownMessage' | 'refused' | 'duplicate' | 'notPublishingGroup';

export interface TxAckDeps {
  store: MessageStore;
  /** a commit under way is marked there (see InFlightSet.storeStarted) */
  inFlight: InFlightSet;
  checks: TxCheckRegistry;
  serial: TxSerial;
  toDeliverPrepare: (request: DeliveryRequest) => void;
  /** answeredCheck: this TX_ACK answered one of our check-backs */
  onOutcome: (messageId: string, outcome: TxOutcome, feedback: string, answeredCheck: boolean) => void;
  onError: (error: unknown, messageId: string) => void;
  /** a connection of another group tried to decide the message (logged at warn) */
  onNotPublishingGroup: (session: TxAckSession, messageId: string, publishingGroup: string) => void;
}

/** The connection: which producer answered (tx-check-registry.ts), its group, and its refusal channel. */
export interface TxAckSession {
  readonly id: number;
  readonly groupId: string;
  readonly remote: string;
  sendStoreAck(opaque: number, messageId: string, status: boolean, feedback: string): void;
}

const events: Record<number, TxEvent> = { [TxStatus.COMMIT]: 'commit', [TxStatus.ROLLBACK]: 'rollback' };

export function createTxAckStage(deps: TxAckDeps) {
  const { store, inFlight, checks, serial, toDeliverPrepare, onOutcome, onError, onNotPublishingGroup } = deps;

  async function decide(id: string, event: TxEvent, answeredCheck: boolean, session: TxAckSession): Promise<TxOutcome> {
    const current = await store.get(id);
    if (!current) {
      checks.forget(id);
      return 'unknownMessage';
    }
    if (current.header.groupId !== session.groupId) {
      onNotPublishingGroup(session, id, current.header.groupId);
      return 'notPublishingGroup';
    }
    const from = txStateOf(current.header.commit, answeredCheck || checks.isChecking(id));
    nextTxState(from, event); // throws IllegalTxMove: e.g. rollback after commit
    checks.forget(id);
    if (from === 'committed') return 'duplicate'; // a retrying producer committed twice
    if (event === 'rollback') {
      await store.rollback(id);
      return 'rollback';
    }
    inFlight.storeStarted(id); // a recovery page may see the commit before it resolves here
    let message: Awaited<ReturnType<typeof store.commit>>;
    try {
      message = await store.commit(id);
    } finally {
      inFlight.storeSettled(id);
    }
    // get() found it but commit() did not: the final action dead-lettered it meanwhile.
    if (!message) return 'refused';
    toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
    return 'commit';
  }

  /** `opaque`: the TX_ACK's, on which a refusal is answered. */
  return async function txAck(ack: TxAck, session: TxAckSession, opaque: number): Promise<TxOutcome> {
    // check-message stores ids lower-case; a KiteQ client echoes the id as it published it.
    const id = ack.header.messageId.toLowerCase();
    const answeredCheck = checks.answered(id, session.id);
    const event = events[ack.status];
    let outcome: TxOutcome;
    if (event === undefined) {
      // doc/architecture.md §7: unknown → asked again after the back-off (the due time is already set).
      if (answeredCheck) nextTxState('checking', 'unknown');
      outcome = 'unknown';
    } else {
      try {
        outcome = await serial.run(id, () => decide(id, event, answeredCheck, session));
      } catch (error) {
        if (error instanceof IllegalTxMove) outcome = 'refused';
        else {
          onError(error, id);
          outcome = 'unknown'; // the store failed: the message stays prepared and is checked back
        }
      }
    }
    if (outcome === 'notPublishingGroup')
      session.sendStoreAck(opaque, ack.header.messageId, false, Reasons.notPublishingGroup.text);
    onOutcome(id, outcome, ack.feedback, answeredCheck);
    return outcome;
  };
}
