// doc/architecture.md §6: the redelivery table, row by row.
import assert from 'node:assert/strict';
import { parkRecheckSec, REDELIVERY_WINDOWS, retryDelaySec } from '../../handler/retry-schedule';

describe('retry schedule - doc/architecture.md §6 table', () => {
  const rows: [failedAttempt: number, delaySec: number][] = [
    [1, 0],
    [2, 0], // attempts 2 and 3 are immediate
    [3, 5],
    [9, 5],
    [10, 10],
    [19, 10],
    [20, 20],
    [29, 20],
    [30, 40],
    [39, 40],
    [40, 80],
    [49, 80],
    [50, 160],
    [99, 160],
    [1000, 160],
  ];
  for (const [failedAttempt, delaySec] of rows) {
    it(`waits ${delaySec} s after attempt ${failedAttempt} failed`, () => {
      assert.equal(retryDelaySec(failedAttempt), delaySec);
    });
  }

  it('covers every attempt from 1 up, without gaps or overlaps', () => {
    for (let i = 1; i < REDELIVERY_WINDOWS.length; i++)
      assert.equal(REDELIVERY_WINDOWS[i].fromAttempt, REDELIVERY_WINDOWS[i - 1].toAttempt + 1);
    assert.equal(REDELIVERY_WINDOWS[0].fromAttempt, 1);
  });

  it('puts attempts 4, 5 and 6 at +5 s, +10 s and +15 s after the 3rd failure', () => {
    const at = [3, 4, 5].reduce<number[]>((acc, n) => [...acc, (acc.at(-1) ?? 0) + retryDelaySec(n)], []);
    assert.deepEqual(at, [5, 10, 15]);
  });
});

describe('park recheck - a parked message is looked at less often as it ages', () => {
  const at = (ageSec: number) => parkRecheckSec(1_000_000, 1_000_000 + ageSec, 60, 3600);
  it('waits the minimum while young, its age later, and at most the maximum', () => {
    assert.deepEqual([0, 59, 60, 61, 600, 3599, 3600, 86_400].map(at), [60, 60, 60, 61, 600, 3599, 3600, 3600]);
  });
  it('takes the minimum for a publish time in the future (a clock step back)', () => {
    assert.equal(at(-500), 60);
  });
  it('rechecks a message parked for a day about 30 times, not 1,440', () => {
    let t = 0;
    let rechecks = 0;
    while ((t += at(t)) < 86_400) rechecks++;
    assert.ok(rechecks >= 24 && rechecks <= 32, `${rechecks} rechecks`);
  });
});
