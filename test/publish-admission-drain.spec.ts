// server/publish-admission.ts: undelivered bytes are bounded by what the consumers drain within a
// share of the delivery timeout (doc/delivery.md "Back-pressure"), so large messages on a fast
// store do not queue past the timeout and come back as duplicates (doc/scaling.md, Message size).
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

  /** admits 1 MiB messages until refused; returns how many are held */
  function fill(admission: PublishAdmission, held: DeliveryJob[]): number {
    while (admission.admit(MiB)) {
      const j = job(MiB);
      admission.onJobStart(j);
      held.push(j);
    }
    return held.length;
  }

  beforeEach(() => (now = 0));

  it('holds MIN_UNDELIVERED_BYTES before any drain is measured, not maxUndeliveredBytes', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    assert.equal(fill(admission, []), MIN_UNDELIVERED_BYTES / MiB);
  });

  it('holds what drains in DRAIN_SHARE of the delivery timeout, and follows the rate', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    const held: DeliveryJob[] = [];
    fill(admission, held);
    // consumers take 50 MiB a second for two seconds
    for (let second = 0; second < 2; second++) {
      for (let i = 0; i < 50; i++) {
        const passing = job(MiB); // through and acked while the first 16 MiB still wait
        admission.onJobStart(passing);
        admission.onJobDone(passing);
        now += 20;
      }
    }
    admission.onJobDone(job(0)); // rolls the window
    const expected = Math.floor(50 * (limits.deliveryTimeoutMs / 1000) * DRAIN_SHARE);
    assert.equal(fill(admission, held), expected, 'about 2 s of draining (100 MiB) held, not 1 GiB');
    // they slow to 5 MiB/s: the bound falls, to the floor at worst
    for (let second = 0; second < 4; second++) {
      for (let i = 0; i < 5; i++) {
        admission.onJobDone(held.pop()!);
        now += 200;
      }
    }
    admission.onJobDone(job(0));
    assert.ok(admission.undeliveredBound < 40 * MiB, `${admission.undeliveredBound} bytes`);
    assert.ok(admission.undeliveredBound >= MIN_UNDELIVERED_BYTES);
  });

  it('still admits one message larger than the bound when nothing else is undelivered', () => {
    const admission = new PublishAdmission(
      limits,
      () => now,
      () => false,
    );
    assert.equal(admission.admit(MIN_UNDELIVERED_BYTES * 2), true);
    admission.onJobStart(job(MIN_UNDELIVERED_BYTES * 2));
    assert.equal(admission.admit(1), false);
  });

  it('never holds more than maxUndeliveredBytes, whatever the rate', () => {
    const small = { ...limits, maxUndeliveredBytes: 4 * MiB };
    const admission = new PublishAdmission(
      small,
      () => now,
      () => false,
    );
    assert.equal(fill(admission, []), 4);
  });
});
