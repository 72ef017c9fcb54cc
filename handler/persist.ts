// doc/architecture.md §5 "persist": a true store-ack only once the store says durable (§4, §8).
import type { MessageStore } from '../store/contract';
import { DuplicateMessageError } from '../store/errors';
import type { InFlightSet } from './delivery-in-flight';
import type { CheckedPublish, DeliveryRequest } from './events';
import { feedbackFor } from './feedback';

export interface PersistDeps {
  store: MessageStore;
  /** a save under way is marked there, so a recovery page that sees the row leaves it to us */
  inFlight: InFlightSet;
  /** prepared (commit=false) messages: check-back due after this many seconds (doc/architecture.md §7) */
  txCheckAgeSec: number;
  nowMs: () => number;
  onStoreError: (error: unknown, messageId: string) => void;
  onStored: (event: CheckedPublish) => void;
  toDeliverPrepare: (request: DeliveryRequest) => void;
}

export function createPersistStage(deps: PersistDeps) {
  const { store, inFlight, txCheckAgeSec, nowMs, onStoreError, onStored, toDeliverPrepare } = deps;
  return async function persist(event: CheckedPublish): Promise<void> {
    const { session, opaque, stored } = event;
    const id = stored.header.messageId;
    // doc/architecture.md §4: fly = true (only with commit) delivers without storing.
    if (stored.header.fly) {
      session.sendStoreAck(opaque, id, true, '');
      toDeliverPrepare({
        message: stored,
        attempt: 1,
        fly: true,
        publishedAtMs: event.receivedAtMs,
        wire: event.rawIsDeliverable ? event.raw : undefined,
      });
      return;
    }
    // The first check-back comes no sooner than txCheckAgeSec after the prepare reached the store:
    // due times are whole seconds and the checker runs once the second is reached, so round up.
    if (!stored.header.commit) stored.nextDeliverTime = Math.ceil(nowMs() / 1000) + txCheckAgeSec;
    inFlight.storeStarted(id);
    try {
      await store.save(stored);
    } catch (error) {
      inFlight.storeSettled(id);
      // A producer retrying after a lost ack: the first copy is stored and being handled.
      if (error instanceof DuplicateMessageError)
        return session.sendStoreAck(opaque, id, true, 'duplicate: already stored');
      onStoreError(error, id);
      return session.sendStoreAck(opaque, id, false, feedbackFor(error)); // never a false "stored"
    }
    inFlight.storeSettled(id); // before deliver-prepare, which starts the first attempt
    session.sendStoreAck(opaque, id, true, '');
    onStored(event);
    // prepared: wait for TX_ACK (§7)
    if (stored.header.commit)
      toDeliverPrepare({
        message: stored,
        attempt: 1,
        fly: false,
        publishedAtMs: event.receivedAtMs,
        wire: event.rawIsDeliverable ? event.raw : undefined,
      });
  };
}
