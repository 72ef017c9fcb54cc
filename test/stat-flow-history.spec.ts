// stat/flow-history.ts (doc/console.md "Overview"): the console's 15 minutes of rates, a fixed ring; a page
// opened late gets the newest samples oldest first, and `since` returns only what it has not seen.
import assert from 'node:assert/strict';
import { FlowHistory } from '../stat/flow-history';

const flows = (n: number) => ({
  received: n,
  stored: n,
  rejected: 0,
  delivered: 2 * n,
  acked: n,
  failed: 0,
  retried: 0,
  deadLettered: 0,
});

describe('stat - flow history ring', () => {
  it('keeps the newest `capacity` samples, oldest first, after wrapping', () => {
    const history = new FlowHistory(5);
    for (let s = 1; s <= 12; s++) history.push(s * 1000, flows(s), 100 + s);
    const snap = history.snapshot();
    assert.deepEqual(snap.t, [8000, 9000, 10000, 11000, 12000]);
    assert.deepEqual(snap.series.received, [8, 9, 10, 11, 12]);
    assert.deepEqual(snap.series.delivered, [16, 18, 20, 22, 24]);
    assert.deepEqual(snap.series.backlog, [108, 109, 110, 111, 112]);
  });

  it('answers only the samples newer than `since`', () => {
    const history = new FlowHistory(900);
    assert.deepEqual(history.snapshot().t, []);
    for (let s = 1; s <= 3; s++) history.push(s * 1000, flows(s), 0);
    assert.deepEqual(history.snapshot(2000).t, [3000]);
    assert.deepEqual(history.snapshot(3000).series.acked, []);
  });
});
