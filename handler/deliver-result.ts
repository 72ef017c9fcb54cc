// doc/architecture.md §5 "deliver-result": once every target group of an attempt has answered (ack, nack or
// timeout), record succeeded and failed groups and either finish the message, retry it per the
// schedule of doc/architecture.md §6, or dead-letter it at its deliverLimit.
//
// The message stays in flight (InFlightSet) until the store has taken the outcome, so a recovery
// scan reading the store meanwhile cannot start a second attempt from a stale copy (in-flight
// dedup, doc/architecture.md §6). Acked groups go into succGroups and are never targeted again.
import type { DeliveryResult, StoredMessage } from '../store/contract';
import type { InFlightSet } from './delivery-in-flight';
import type { DeliveryJob } from './delivery-job';
import type { DeliveryRequest } from './events';
import { retryDelaySec } from './retry-schedule';

export interface DeliverResultDeps {
  inFlight: InFlightSet;
  nowMs: () => number;
  /** every group acked: delete from the store; resolves once done (never rejects: it logs) */
  finish: (request: DeliveryRequest) => Promise<void> | void;
  /** the groups that acked are done, others wait for a consumer: keep it parked (never rejects) */
  park: (request: DeliveryRequest) => Promise<void> | void;
  /** a consumer of this group is connected */
  isOnline: (groupId: string) => boolean;
  /** persist the attempt's outcome (store.recordDelivery) */
  record: (messageId: string, result: DeliveryResult) => Promise<void>;
  /** retry now (attempts 2 and 3) */
  toDeliverPrepare: (request: DeliveryRequest) => void;
  /** retry at atMs (the retry heap); false when the heap is full (the recovery scan takes it) */
  schedule: (messageId: string, atMs: number) => unknown;
  /** resolves once stored in the dead-letter area (never rejects: it logs) */
  deadLetter: (request: DeliveryRequest, reason: string) => Promise<void> | void;
  onError: (error: unknown, messageId: string) => void;
  /** not called for a delivery handed back (it had no outcome) */
  onGroupResult?: (job: DeliveryJob, groupId: string, ok: boolean) => void;
  /** the attempt is complete (before finish/retry/dead-letter) */
  onJobDone?: (job: DeliveryJob) => void;
}

/** When the store cannot take an attempt's outcome, look at the message again after this. */
const STORE_ERROR_RETRY_MS = 1000;

export function createDeliverResultStage(deps: DeliverResultDeps) {
  const {
    inFlight,
    nowMs,
    finish,
    park,
    isOnline,
    record,
    toDeliverPrepare,
    schedule,
    deadLetter,
    onError,
    onGroupResult,
    onJobDone,
  } = deps;

  /**
   * Not an async function: the common case (every target acked) costs the store's own promise and
   * one reaction, no promise of its own (one per message on the hot path).
   */
  function complete(job: DeliveryJob): void {
    const id = job.messageId;
    onJobDone?.(job);
    // fly messages are never stored, so never recorded nor retried (doc/architecture.md §4)
    if (job.fly) return inFlight.release(id);
    if (job.failed.length === 0 && job.waiting.length === 0) {
      // every target acked: the store only needs the id, no updated copy
      const done = finish({ message: job.message, attempt: job.attempt, fly: false });
      if (done === undefined) return inFlight.release(id);
      void done.then(() => inFlight.release(id));
      return;
    }
    void completeOther(job);
  }

  /** Some target failed or waits: the updated copy is recorded, then retried, parked or dead-lettered. */
  async function completeOther(job: DeliveryJob): Promise<void> {
    const id = job.messageId;
    const message: StoredMessage = {
      ...job.message,
      succGroups: job.succeeded,
      failGroups: job.failed,
      // an attempt handed back by every target reached nobody: it is not counted
      deliverCount: job.handedBack === job.targets.length ? job.attempt - 1 : job.attempt,
    };
    const request: DeliveryRequest = { message, attempt: job.attempt, fly: false };
    if (job.failed.length === 0) {
      // doc/architecture.md §6: a persistent group with no consumer online was left out of this attempt; the
      // message waits for it (parked) instead of finishing or burning an attempt on it.
      await park(request);
      inFlight.release(id);
      // A waiting group's consumer connected while this attempt was in flight: the re-drive its
      // arrival started skipped the message (in flight, doc/architecture.md §6), so take it now, not at the
      // next recheck (noGroupRecheckSec or later).
      if (job.waiting.some(isOnline)) toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
      return;
    }
    const exhausted = job.attempt >= message.header.deliverLimit;
    const delaySec = exhausted ? 0 : retryDelaySec(job.attempt);
    const dueMs = nowMs() + delaySec * 1000;
    message.nextDeliverTime = Math.floor(dueMs / 1000);
    const result: DeliveryResult = {
      succGroups: job.succeeded,
      failGroups: job.failed,
      deliverCount: job.attempt,
      nextDeliverTime: message.nextDeliverTime,
    };
    try {
      await record(id, result);
    } catch (error) {
      onError(error, id);
      schedule(id, nowMs() + STORE_ERROR_RETRY_MS); // re-read from the store once it answers again
      return inFlight.release(id);
    }
    if (exhausted) {
      // Recorded first, so the dead letter names the groups that acked (listing per group).
      await deadLetter(
        request,
        `deliverLimit ${message.header.deliverLimit} reached; failed groups: ${job.failed.join(',')}`,
      );
      return inFlight.release(id);
    }
    if (delaySec > 0) {
      schedule(id, dueMs); // on the heap before leaving flight: never both idle and unscheduled
      return inFlight.release(id);
    }
    inFlight.release(id);
    toDeliverPrepare({ message, attempt: job.attempt + 1, fly: false });
  }

  return function settle(job: DeliveryJob, groupId: string, ok: boolean, handedBack = false): void {
    if (!handedBack) onGroupResult?.(job, groupId, ok);
    if (job.settle(groupId, ok, handedBack)) complete(job);
  };
}
