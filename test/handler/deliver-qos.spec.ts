// doc/architecture.md §5 "deliver-qos", doc/delivery.md: each group is sent at most its binding's
// watermark per second; a delivery over budget waits in the group's queue, in order, and is sent
// when tokens come back; one slow group does not hold back another.
import assert from 'node:assert/strict';
import { directBinding, type Binding } from '../../binding/binding';
import { DeliverQos } from '../../handler/deliver-qos';
import { DeliveryJob } from '../../handler/delivery-job';
import { VirtualClock } from '../../server/clock';
import { aMessage } from '../support/messages';

describe('deliver-qos stage - per-group watermark', () => {
  let clock: VirtualClock;
  let sent: { id: string; groupId: string }[];
  let qos: DeliverQos;

  beforeEach(() => {
    clock = new VirtualClock(1_000_000);
    sent = [];
    qos = new DeliverQos({
      clock,
      toDeliver: (job, binding) => sent.push({ id: job.messageId, groupId: binding.groupId }),
    });
  });
  afterEach(() => qos.stop());

  const jobsFor = (targets: Binding[], n: number) =>
    Array.from({ length: n }, () => new DeliveryJob(aMessage(), 1, targets, false));

  it('sends a group up to its watermark at once and holds the rest, in order, until tokens return', () => {
    const slow = directBinding('s-slow', 'trade', 'pay-succ', { watermark: 3 });
    const jobs = jobsFor([slow], 5);
    for (const job of jobs) qos.submit(job);
    assert.deepEqual(
      sent.map((s) => s.id),
      jobs.slice(0, 3).map((j) => j.messageId),
    );
    assert.equal(qos.waiting, 2);
    clock.advance(340); // one token back (3/s)
    assert.deepEqual(
      sent.map((s) => s.id),
      jobs.slice(0, 4).map((j) => j.messageId),
    );
    clock.advance(340);
    assert.deepEqual([sent.map((s) => s.id), qos.waiting], [jobs.map((j) => j.messageId), 0]);
  });

  it('does not let a group over its watermark hold back another group of the same message', () => {
    const slow = directBinding('s-slow', 'trade', 'pay-succ', { watermark: 1 });
    const fast = directBinding('s-fast', 'trade', 'pay-succ', { watermark: 1000 });
    for (const job of jobsFor([slow, fast], 4)) qos.submit(job);
    assert.equal(sent.filter((s) => s.groupId === 's-fast').length, 4);
    assert.equal(sent.filter((s) => s.groupId === 's-slow').length, 1);
    assert.equal(qos.waiting, 3);
  });
});
