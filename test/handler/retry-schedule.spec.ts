// design §6: the redelivery table, row by row.
import assert from 'node:assert/strict';
import { REDELIVERY_WINDOWS, retryDelaySec } from '../../handler/retry-schedule';

describe('retry schedule - design §6 table', () => {
  const rows: [failedAttempt: number, delaySec: number][] = [
    [1, 0], [2, 0], // attempts 2 and 3 are immediate
    [3, 5], [9, 5],
    [10, 10], [19, 10],
    [20, 20], [29, 20],
    [30, 40], [39, 40],
    [40, 80], [49, 80],
    [50, 160], [99, 160], [1000, 160],
  ];
  for (const [failedAttempt, delaySec] of rows) {
    it(`waits ${delaySec} s after attempt ${failedAttempt} failed`, () => {
      assert.equal(retryDelaySec(failedAttempt), delaySec);
    });
  }

  it('covers every attempt from 1 up, without gaps or overlaps', () => {
    for (let i = 1; i < REDELIVERY_WINDOWS.length; i++) assert.equal(REDELIVERY_WINDOWS[i].fromAttempt, REDELIVERY_WINDOWS[i - 1].toAttempt + 1);
    assert.equal(REDELIVERY_WINDOWS[0].fromAttempt, 1);
  });

  it('puts attempts 4, 5 and 6 at +5 s, +10 s and +15 s after the 3rd failure', () => {
    const at = [3, 4, 5].reduce<number[]>((acc, n) => [...acc, (acc.at(-1) ?? 0) + retryDelaySec(n)], []);
    assert.deepEqual(at, [5, 10, 15]);
  });
});
