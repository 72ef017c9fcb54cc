// doc/architecture.md §5 "deliver": one consumer per group. Consumers inside their warm-up window are
// picked with probability seconds-since-auth / warmingupSec (doc/architecture.md §5, §6).
import type { Binding } from '../binding/binding';
import type { DeliveryJob } from './delivery-job';
import type { PendingReply, SessionPort } from './session-port';
import { StageError } from './stage-error';

export interface DeliverDeps {
  /** authenticated, open sessions of a group */
  consumersOf: (groupId: string) => readonly SessionPort[];
  nowMs: () => number;
  random: () => number;
  /** one group's outcome for this attempt (deliver-result); handedBack: it never left the broker */
  settle: (job: DeliveryJob, groupId: string, ok: boolean, handedBack?: boolean) => void;
}

/** Weight of a consumer: 1 when warm, growing linearly from ~0 during its warm-up window. */
export function warmupWeight(session: SessionPort, nowMs: number): number {
  if (session.warmingupSec <= 0) return 1;
  const elapsedSec = (nowMs - session.authAtMs) / 1000;
  if (elapsedSec >= session.warmingupSec) return 1;
  return Math.max(0.01, elapsedSec / session.warmingupSec);
}

/** `clock` is read only when there is a choice to make: one consumer per group is the common case. */
export function pickConsumer(
  candidates: readonly SessionPort[],
  clock: () => number,
  random: () => number,
): SessionPort | undefined {
  if (candidates.length <= 1) return candidates[0];
  const nowMs = clock();
  // Two passes instead of a weights array: no allocation per message (hot path).
  let total = 0;
  for (let i = 0; i < candidates.length; i++) total += warmupWeight(candidates[i], nowMs);
  let r = random() * total;
  for (let i = 0; i < candidates.length; i++) {
    r -= warmupWeight(candidates[i], nowMs);
    if (r < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}

/** A group's outcome for one attempt: settled once, whichever comes first (ack, timeout, error). */
class GroupReply implements PendingReply {
  private settled = false;

  constructor(
    private readonly job: DeliveryJob,
    private readonly groupId: string,
    private readonly settle: DeliverDeps['settle'],
  ) {}

  resolve(status: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(this.job, this.groupId, status);
  }

  handBack(): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(this.job, this.groupId, false, true);
  }
}

export function createDeliverStage(deps: DeliverDeps) {
  const { consumersOf, nowMs, random, settle } = deps;
  return function deliver(job: DeliveryJob, binding: Binding): void {
    const consumer = pickConsumer(consumersOf(binding.groupId), nowMs, random);
    if (consumer === undefined) {
      // doc/architecture.md §3: persistent=false → with no consumer online the group counts as delivered.
      settle(job, binding.groupId, !binding.persistent);
      return;
    }
    const reply = new GroupReply(job, binding.groupId, settle);
    try {
      consumer.deliver(job.message.msgType, job, reply);
    } catch (error) {
      // A bug met while writing the delivery: this group's attempt fails (retried on schedule),
      // settled here so the caller only logs it.
      reply.resolve(false);
      throw new StageError('deliver', error);
    }
  };
}
