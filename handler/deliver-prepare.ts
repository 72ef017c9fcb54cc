// design §5 "deliver-prepare": expiry and deliverLimit, in-flight dedup, and the target groups
// = the groups bound now, minus those that already acked (design §6: never redelivered to).
import type { Binding } from '../binding/binding';
import type { BindingTable } from '../binding/matcher';
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
  deadLetter: (request: DeliveryRequest, reason: string) => void;
  /** no group is bound at all: keep it until one binds or it expires (design §6) */
  park: (request: DeliveryRequest) => void;
  /** every bound group has acked: the message is finished */
  finish: (request: DeliveryRequest) => void;
  toDeliverQos: (job: DeliveryJob) => void;
}

export function createDeliverPrepareStage(deps: DeliverPrepareDeps) {
  const { bindings, isOnline, inFlight, nowMs, deadLetter, park, finish, toDeliverQos } = deps;
  return function deliverPrepare(request: DeliveryRequest): void {
    const { message, attempt, fly } = request;
    const { header } = message;
    if (inFlight.has(header.messageId)) return; // design §6: never in flight twice
    if (header.expiredTime > 0 && header.expiredTime * 1000 < nowMs()) {
      return deadLetter(request, `expired at ${new Date(header.expiredTime * 1000).toISOString()}`);
    }
    if (attempt > header.deliverLimit) {
      return deadLetter(request, `deliverLimit ${header.deliverLimit} reached after ${attempt - 1} attempts`);
    }
    const bound = bindings().match(header.topic, header.messageType);
    if (bound.length === 0) return park(request);
    let targets: Binding[] = bound;
    let succeeded = message.succGroups;
    if (succeeded.length > 0 || anyNonPersistent(bound)) {
      const done = new Set(succeeded);
      targets = [];
      for (const binding of bound) {
        if (done.has(binding.groupId)) continue;
        // design §3: persistent=false with no consumer online counts as delivered, without
        // waiting in that group's watermark queue.
        if (!binding.persistent && !isOnline(binding.groupId)) {
          if (succeeded === message.succGroups) succeeded = [...succeeded];
          succeeded.push(binding.groupId);
        } else targets.push(binding);
      }
      if (targets.length === 0) return finish({ ...request, message: { ...message, succGroups: succeeded } });
    }
    inFlight.add(header.messageId);
    const job = new DeliveryJob(succeeded === message.succGroups ? message : { ...message, succGroups: succeeded }, attempt, targets, fly);
    job.publishedAtMs = request.publishedAtMs;
    if (request.wire !== undefined) job.useEncoded(request.wire);
    toDeliverQos(job);
  };
}

function anyNonPersistent(bound: readonly Binding[]): boolean {
  for (let i = 0; i < bound.length; i++) if (!bound[i].persistent) return true;
  return false;
}
