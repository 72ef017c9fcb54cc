// handler/recent-parks.ts: the publish path's parks of a moment ago, re-driven newest first when a
// group can receive them; older ones and those past the cap are left to the recovery scan.
import assert from 'node:assert/strict';
import type { DeliveryRequest } from '../../handler/events';
import { RecentParks } from '../../handler/recent-parks';
import { aMessage } from '../support/messages';

function request(topic: string): DeliveryRequest {
  return { message: aMessage({ topic }), attempt: 1, fly: false, publishedAtMs: 0 };
}

const topicOf = (r: DeliveryRequest) => r.message.header.topic;

describe('recent parks', () => {
  it('takes those a group can receive, newest first, and keeps the others', () => {
    const parks = new RecentParks(2_000, 100);
    const [a, b, c] = [request('on'), request('off'), request('on')];
    parks.add(a, 0);
    parks.add(b, 10);
    parks.add(c, 20);
    assert.deepEqual(
      parks.takeReceivable((r) => topicOf(r) === 'on', 30),
      [c, a],
    );
    assert.deepEqual(
      parks.takeReceivable((r) => topicOf(r) === 'on', 40),
      [],
      'taken once',
    );
    assert.deepEqual(
      parks.takeReceivable(() => true, 50),
      [b],
    );
  });

  it('keeps a re-park once, with its latest state', () => {
    const parks = new RecentParks(2_000, 100);
    const first = request('on');
    const again = { ...first, message: { ...first.message, succGroups: ['s-a'] } };
    parks.add(first, 0);
    parks.add(again, 5);
    assert.deepEqual(
      parks.takeReceivable(() => true, 10),
      [again],
    );
  });

  it('forgets parks beyond its cap, oldest first', () => {
    const parks = new RecentParks(1_000, 2);
    const [old, mid, recent] = [request('t'), request('t'), request('t')];
    parks.add(old, 0);
    parks.add(mid, 10);
    parks.add(recent, 20);
    assert.equal(parks.size, 2);
    assert.deepEqual(
      parks.takeReceivable(() => true, 30),
      [recent, mid],
    );
  });

  it('forgets parks older than its age', () => {
    const parks = new RecentParks(1_000, 100);
    const [old, recent] = [request('t'), request('t')];
    parks.add(old, 0);
    parks.add(recent, 500);
    assert.deepEqual(
      parks.takeReceivable(() => true, 1_200),
      [recent],
    );
  });
});
