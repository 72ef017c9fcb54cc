// doc/architecture.md §5–§7: the registry of connections (server/sessions.ts), built alone from
// its narrow RegisteredSession interface: every authenticated session by group, producers too.
import assert from 'node:assert/strict';
import { type RegisteredSession, Sessions } from '../server/sessions';

class FakeConnection implements RegisteredSession {
  authenticated = false;
  passedOver = false;
  full = false;
  inFlightPublishes = 0;
  pendingCount = 0;
  lastSeenMs = 0;
  closedFor: string | null = null;
  destroyed = false;
  expiredAt: number[] = [];
  constructor(
    readonly groupId: string,
    readonly connectedAtMs = 0,
  ) {}
  expirePending(nowMs: number): void {
    this.expiredAt.push(nowMs);
    this.pendingCount = 0;
  }
  close(reason: string): void {
    this.closedFor = reason;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function authenticated(
  sessions: Sessions<FakeConnection>,
  groupId: string,
): { session: FakeConnection; first: boolean } {
  const session = new FakeConnection(groupId);
  sessions.add(session);
  session.authenticated = true;
  return { session, first: sessions.authenticated(session) };
}

describe('sessions registry - authenticated sessions by group', function () {
  it('lists every authenticated session of a group and says which was the group first', () => {
    const sessions = new Sessions<FakeConnection>();
    const pending = new FakeConnection('');
    sessions.add(pending);
    const producer = authenticated(sessions, 'p-trade');
    const one = authenticated(sessions, 's-mc');
    const two = authenticated(sessions, 's-mc');
    assert.deepEqual([producer.first, one.first, two.first], [true, true, false]);
    assert.equal(sessions.size, 4, 'the unauthenticated connection is counted');
    assert.deepEqual(sessions.inGroup('s-mc'), [one.session, two.session]);
    assert.deepEqual(sessions.inGroup('p-trade'), [producer.session], 'producers are registered too');
    assert.deepEqual([...sessions.byGroup.keys()].sort(), ['p-trade', 's-mc']);
  });

  it('forgets a closed session, and its group once the last one is gone', () => {
    const sessions = new Sessions<FakeConnection>();
    const one = authenticated(sessions, 's-mc');
    const two = authenticated(sessions, 's-mc');
    sessions.remove(one.session);
    assert.deepEqual(sessions.inGroup('s-mc'), [two.session]);
    sessions.remove(two.session);
    assert.deepEqual(sessions.inGroup('s-mc'), []);
    assert.equal(sessions.byGroup.has('s-mc'), false);
    assert.equal(sessions.size, 0);
    assert.equal(authenticated(sessions, 's-mc').first, true, 'the next one is the group first again');
  });

  it('offers the reading sessions of a group, or all of them when none is reading', () => {
    const sessions = new Sessions<FakeConnection>();
    const slow = authenticated(sessions, 's-mc').session;
    const fast = authenticated(sessions, 's-mc').session;
    assert.deepEqual(sessions.reading('s-mc'), [slow, fast]);
    slow.passedOver = true;
    assert.deepEqual(sessions.reading('s-mc'), [fast]);
    fast.passedOver = true;
    assert.deepEqual(sessions.reading('s-mc'), [slow, fast]);
    assert.deepEqual(sessions.reading('s-none'), []);
  });

  it('never offers a full session (a gateway pull queue at its bound), even the only one', () => {
    const sessions = new Sessions<FakeConnection>();
    const pull = authenticated(sessions, 's-mc').session;
    pull.full = true;
    assert.deepEqual(sessions.reading('s-mc'), [], 'the group counts as without a consumer');
    const native = authenticated(sessions, 's-mc').session;
    assert.deepEqual(sessions.reading('s-mc'), [native]);
    native.passedOver = true;
    assert.deepEqual(sessions.reading('s-mc'), [native], 'passed over, but the only one open');
    pull.full = false;
    assert.deepEqual(sessions.reading('s-mc'), [pull], 'the passed-over rule as before');
  });

  it('closes connections that never authenticated in time or went silent, and sums publishes awaiting their ack', () => {
    const sessions = new Sessions<FakeConnection>();
    const late = new FakeConnection('', 0);
    sessions.add(late);
    const silent = authenticated(sessions, 's-mc').session;
    const alive = authenticated(sessions, 's-mc').session;
    alive.lastSeenMs = 9_000;
    silent.inFlightPublishes = 2;
    alive.inFlightPublishes = 3;
    for (const session of [late, silent, alive]) sessions.awaiting(session);
    sessions.expirePending(10_000, 5000);
    assert.deepEqual([late.expiredAt, silent.expiredAt, alive.expiredAt], [[10_000], [10_000], [10_000]]);
    sessions.evictIdle(10_000, { authTimeoutMs: 5000, clientIdleMs: 8000 });
    assert.equal(late.closedFor, 'no CONN_META within 5000 ms');
    assert.equal(silent.closedFor, 'silent for 8000 ms (no heartbeat)');
    assert.equal(alive.closedFor, null);
    assert.equal(sessions.publishesAwaitingAck(), 5);
    sessions.destroyAll();
    assert.deepEqual([late.destroyed, silent.destroyed, alive.destroyed], [true, true, true]);
  });

  it('expires replies only on sessions awaiting them, each until it awaits none (idle ones are not walked)', () => {
    // doc/scaling.md, Idle: the 100 ms sweep visited 10,000 idle sessions per tick
    const sessions = new Sessions<FakeConnection>();
    const idle = Array.from({ length: 1000 }, () => authenticated(sessions, 'p-idle').session);
    const consumer = authenticated(sessions, 's-mc').session;
    consumer.pendingCount = 1;
    sessions.awaiting(consumer);
    sessions.expirePending(1_000, 5000);
    consumer.expirePending = function (nowMs: number) {
      this.expiredAt.push(nowMs); // still one in time: it stays looked at
    };
    sessions.expirePending(1_100, 5000);
    assert.deepEqual(consumer.expiredAt, [1_000], 'answered: no longer visited');
    consumer.pendingCount = 1;
    sessions.awaiting(consumer);
    sessions.expirePending(1_200, 5000);
    sessions.expirePending(1_300, 5000);
    assert.deepEqual(consumer.expiredAt, [1_000, 1_200, 1_300]);
    assert.equal(
      idle.filter((s) => s.expiredAt.length > 0).length,
      0,
      'no idle session was visited by the delivery sweep',
    );
    sessions.remove(consumer);
    sessions.expirePending(1_400, 5000);
    assert.deepEqual(consumer.expiredAt, [1_000, 1_200, 1_300], 'a closed session is forgotten');
  });

  it('checks a tenth of the connections for idleness per call, every one within ten calls', () => {
    const sessions = new Sessions<FakeConnection>();
    const all = Array.from({ length: 1000 }, () => authenticated(sessions, 'p-idle').session);
    const looked = new Set<FakeConnection>();
    for (const session of all)
      Object.defineProperty(session, 'lastSeenMs', {
        get: () => (looked.add(session), 0),
      });
    sessions.evictIdle(100_000, { authTimeoutMs: 5000, clientIdleMs: 30_000 }, 0.1);
    assert.equal(looked.size, 100, 'one call looks at a tenth');
    for (let i = 0; i < 9; i++) sessions.evictIdle(100_000, { authTimeoutMs: 5000, clientIdleMs: 30_000 }, 0.1);
    assert.equal(looked.size, 1000);
    assert.ok(all.every((s) => s.closedFor === 'silent for 30000 ms (no heartbeat)'));
  });
});
