// doc/architecture.md §5 "deliver-prepare": expiry and deliverLimit, in-flight dedup, and the target groups
// = the groups bound now, minus those that already acked (doc/architecture.md §6: never redelivered to).
// When it settles a message itself (park, finish, dead letter) it returns that store write, so a
// caller paging the store can wait for it before reading more (server/recovery.ts).
import type { Binding } from '../binding/binding';
import type { BindingTable } from '../binding/matcher';
import { deliverAtOf } from '../protocol/deliver-at';
import type { InFlightSet } from './delivery-in-flight';
import { DeliveryJob } from './delivery-job';
import type { DeliveryRequest } from './events';

export interface DeliverPrepareDeps {
  bindings: () => BindingTable;
  /** a consumer of this group is connected */
  isOnline: (groupId: string) => boolean;
  /** messageIds with an attempt in flight: one attempt per message at a time */
  inFlight: InFlightSet;
  nowMs: () => number;
  /** deadLetter, park and finish may return a promise of their store write (never rejecting): it is returned */
  deadLetter: (request: DeliveryRequest, reason: string) => unknown;
  /** no group to deliver to now (none bound, or no consumer online): keep it (doc/architecture.md §6) */
  park: (request: DeliveryRequest) => unknown;
  /**
   * a scheduled message (kiteq.deliverAt) reached delivery before its time: keep it stored and due
   * at that time (doc/delayed-delivery.md)
   */
  defer: (request: DeliveryRequest, deliverAtMs: number) => unknown;
  /** every bound group has acked: the message is finished */
  finish: (request: DeliveryRequest) => unknown;
  toDeliverQos: (job: DeliveryJob) => void;
  /** a prepared (commit=false) message reached delivery: a bug upstream; it is not delivered */
  onUncommitted: (request: DeliveryRequest) => void;
}

export function createDeliverPrepareStage(deps: DeliverPrepareDeps) {
  const { bindings, isOnline, inFlight, nowMs, deadLetter, park, defer, finish, toDeliverQos, onUncommitted } = deps;
  /** the store write that settled the message here, or undefined (an attempt started, or nothing to do) */
  return function deliverPrepare(request: DeliveryRequest): Promise<unknown> | undefined {
    const { message, attempt, fly } = request;
    const { header } = message;
    if (inFlight.has(header.messageId)) return undefined; // doc/architecture.md §6: never in flight twice
    // doc/transactions.md: whatever path brought it here (re-drive, recovery, takeover, final
    // action), a prepared message is delivered only after its commit; it stays stored for the check-back.
    if (!header.commit) return void onUncommitted(request);
    // doc/delayed-delivery.md: never early, whatever path brought it here (publish, commit, due
    // retry, recovery scan, re-drive of parked messages, takeover). check-message refuses fly ones.
    if (!fly && header.properties.length > 0) {
      const deliverAtMs = deliverAtOf(header);
      if (deliverAtMs > nowMs()) return storeWrite(defer(request, deliverAtMs));
    }
    if (header.expiredTime > 0 && header.expiredTime * 1000 < nowMs()) {
      return storeWrite(deadLetter(request, `expired at ${new Date(header.expiredTime * 1000).toISOString()}`));
    }
    if (attempt > header.deliverLimit) {
      return storeWrite(
        deadLetter(request, `deliverLimit ${header.deliverLimit} reached after ${attempt - 1} attempts`),
      );
    }
    const bound = bindings().match(header.topic, header.messageType);
    if (bound.length === 0) return storeWrite(park(request));
    let targets: Binding[] = bound;
    const done = message.succGroups;
    let succeeded = done;
    let waiting: string[] | undefined;
    if (done.length > 0 || !allOnline(bound, isOnline)) {
      targets = [];
      for (const binding of bound) {
        if (done.includes(binding.groupId)) continue; // a handful of groups: no Set per message
        if (isOnline(binding.groupId)) targets.push(binding);
        // doc/architecture.md §3: persistent=false with no consumer online counts as delivered, without
        // waiting in that group's watermark queue.
        else if (!binding.persistent) {
          if (succeeded === done) succeeded = [...done];
          succeeded.push(binding.groupId);
        } else (waiting ??= []).push(binding.groupId); // doc/architecture.md §6: persistent groups wait for their consumers
      }
      if (targets.length === 0) {
        const settled = succeeded === done ? request : { ...request, message: { ...message, succGroups: succeeded } };
        return storeWrite(waiting && !fly ? park(settled) : finish(settled));
      }
    }
    inFlight.add(header.messageId);
    // The job starts from `succeeded` (offline non-persistent groups included); its message is not
    // copied for that: deliver-result builds the updated copy from job.succeeded when it needs one.
    const job = new DeliveryJob(message, attempt, targets, fly, succeeded);
    if (waiting) job.waiting = waiting;
    job.publishedAtMs = request.publishedAtMs;
    if (request.wire !== undefined) job.useEncoded(request.wire);
    toDeliverQos(job);
    return undefined;
  };
}

/**
 * An attempt now would reach some group: one that is bound, has not acked, and has a consumer
 * online or is non-persistent (which counts as delivered). False means deliverPrepare would only
 * park the message again, so a re-drive of a parked message can pass it by at no cost.
 */
export function canReceive(
  table: BindingTable,
  isOnline: (groupId: string) => boolean,
  message: { header: { topic: string; messageType: string }; succGroups: readonly string[] },
): boolean {
  for (const binding of table.match(message.header.topic, message.header.messageType)) {
    if (message.succGroups.includes(binding.groupId)) continue;
    if (!binding.persistent || isOnline(binding.groupId)) return true;
  }
  return false;
}

function storeWrite(outcome: unknown): Promise<unknown> | undefined {
  return outcome instanceof Promise ? outcome : undefined;
}

function allOnline(bound: readonly Binding[], isOnline: (groupId: string) => boolean): boolean {
  for (let i = 0; i < bound.length; i++) if (!isOnline(bound[i].groupId)) return false;
  return true;
}
