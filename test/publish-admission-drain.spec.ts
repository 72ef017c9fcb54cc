// server/publish-admission.ts: past what the consumers drain within a share of the delivery
// timeout, a publish waits (its store-ack held) until deliveries drain, so large messages on a fast
// store do not queue past the timeout and come back as duplicates (doc/scaling.md, Message size);
// past maxUndeliveredBytes it is refused (doc/delivery.md "Back-pressure").
import assert from 'node:assert/strict';
import type { DeliveryJob } from '../handler/delivery-job';
import { DRAIN_SHARE, MIN_UNDELIVERED_BYTES, PublishAdmission } from '../server/publish-admission';

const MiB = 1024 * 1024;

function job(bytes: number): DeliveryJob {
  return { bytes } as DeliveryJob;
}

describe('publish admission - undelivered bytes bounded by the drain rate', () => {
  let now = 0;
  const limits = { maxUndeliveredBytes: 1024 * MiB, publishPermitsPerSecond: 0, deliveryTimeoutMs: 5000 };

  /** publishes 1 MiB messages while they go through at once; each one that goes starts its job */
  function fill(admission: PublishAdmission, held: DeliveryJob[]): number {
    for (;;) {
      let went = false;
      const j = job(MiB);
      assert.equal(
        admission.admit(MiB, () => ((went = true), admission.onJobStart(j), held.push(j))),
        true,
      );
      if (!went) return held.length;
    }
  }

  /** consumers take `perSecond` 1 MiB messages a second for `seconds` (each passes through) */
  function drainAt(admission: PublishAdmission, perSecond: number, seconds: number): void {
    for (let i = 0; i < perSecond * seconds; i++) {
      const passing = job(MiB);
      admission.onJobStart(passing);
      admission.onJobDone(passing);
      now += 1000 / perSecond;
    }
  }

  beforeEach(() => (now = 0));

  it('holds MIN_UNDELIVERED_BYTES before any drain is measured, not maxUndeliveredBytes', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    assert.equal(fill(admission, []), MIN_UNDELIVERED_BYTES / MiB);
    assert.equal(admission.waitingCount, 1, 'the next one waits, it is not refused');
  });

  it('holds what drains in DRAIN_SHARE of the delivery timeout, and follows the rate', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    drainAt(admission, 50, 2);
    admission.onJobDone(job(0)); // rolls the window
    const expected = Math.floor(50 * (limits.deliveryTimeoutMs / 1000) * DRAIN_SHARE);
    const held: DeliveryJob[] = [];
    assert.equal(fill(admission, held), expected, 'about 1 s of draining (50 MiB) held, not 1 GiB');
    drainAt(admission, 5, 4); // they slow to 5 MiB/s: the bound falls, to the floor at worst
    admission.onJobDone(job(0));
    assert.ok(admission.undeliveredBound < 40 * MiB, `${admission.undeliveredBound} bytes`);
    assert.ok(admission.undeliveredBound >= MIN_UNDELIVERED_BYTES);
  });

  it('lets waiting publishes go in order as deliveries drain', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    const held: DeliveryJob[] = [];
    fill(admission, held); // the floor is held, one waits
    const order: number[] = [];
    for (let i = 1; i <= 3; i++)
      assert.equal(
        admission.admit(MiB, () => order.push(i)),
        true,
      );
    assert.equal(admission.waitingCount, 4);
    admission.onJobDone(held.shift()!);
    assert.equal(admission.waitingCount, 3, 'the first waiting one took the freed room');
    admission.onJobDone(held.shift()!);
    admission.onJobDone(held.shift()!);
    assert.deepEqual(order, [1, 2]);
  });

  it('still admits one message larger than the bound when nothing else is undelivered', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    let went = 0;
    assert.equal(
      admission.admit(MIN_UNDELIVERED_BYTES * 2, () => went++),
      true,
    );
    assert.equal(went, 1);
  });

  it('refuses past maxUndeliveredBytes, counting the waiting ones', () => {
    const small = { ...limits, maxUndeliveredBytes: 20 * MiB };
    const admission = new PublishAdmission(
      small,
      () => now,
      () => false,
    );
    assert.equal(fill(admission, []), 16);
    const answers = Array.from({ length: 5 }, () => admission.admit(MiB, () => undefined));
    assert.deepEqual(answers, [true, true, true, false, false], '16 held + 1 + 3 waiting = 20 MiB');
  });

  it('refuses the waiting publishes once the broker is stopping', () => {
    let stopping = false;
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => stopping,
    );
    const held: DeliveryJob[] = [];
    fill(admission, held);
    const answers: boolean[] = [];
    for (let i = 0; i < 3; i++) admission.admit(MiB, (admitted) => answers.push(admitted));
    stopping = true;
    admission.onJobDone(held.shift()!);
    assert.deepEqual(answers, [false, false, false]);
    assert.equal(admission.waitingCount, 0);
  });
});
