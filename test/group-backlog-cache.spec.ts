// stat/group-backlog.ts (doc/console.md "Per-group backlog"): the store scan runs only when read,
// one at a time, and no sooner than max(1 s, 10 × the last one's duration) after the last started,
// failed or not, so an open Groups view costs at most a tenth of the time.
import assert from 'node:assert/strict';
import { GroupBacklogCache } from '../stat/group-backlog';
import type { GroupBacklog } from '../store/contract';

describe('group backlog cache - paced by reads', () => {
  let now = 1_000_000;
  const scans: { resolve: (v: Record<string, GroupBacklog>) => void; reject: (e: Error) => void }[] = [];
  const errors: unknown[] = [];
  const cache = new GroupBacklogCache({
    store: {
      groupBacklog: () => new Promise((resolve, reject) => void scans.push({ resolve, reject })),
    },
    groupsOf: () => [],
    nowMs: () => now,
    onError: (error) => errors.push(error),
  });
  const owed = (n: number): Record<string, GroupBacklog> => ({
    's-mc': { undelivered: n, oldestPublishTime: 1, estimated: false },
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('scans on the first read, once while it runs, then after 10 × its duration; a failure paces the same', async () => {
    assert.deepEqual(cache.read(), {});
    assert.equal(cache.refreshedAt, 0);
    cache.read();
    assert.equal(scans.length, 1, 'one scan at a time');

    now += 300; // the scan took 300 ms
    scans[0]!.resolve(owed(5));
    await settle();
    assert.equal(cache.refreshedAt, now);
    assert.deepEqual(cache.read(), owed(5));
    now += 2_000; // 2.3 s after it started: not yet 3 s
    cache.read();
    assert.equal(scans.length, 1);
    now += 700;
    cache.read();
    assert.equal(scans.length, 2, '3 s after the last started');

    now += 50;
    scans[1]!.reject(new Error('MySQL timed out'));
    await settle();
    assert.equal(errors.length, 1);
    assert.deepEqual(cache.read(), owed(5), 'the last figures stay');
    now += 900;
    cache.read();
    assert.equal(scans.length, 2, 'a failed scan is not retried at every read');
    now += 100;
    cache.read();
    assert.equal(scans.length, 3, 'retried 1 s after it started');
  });
});
