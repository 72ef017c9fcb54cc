// doc/architecture.md §5 "access", doc/security.md: the group's secret key is checked and answered
// with CONN_AUTH; a refusal does not say whether the group exists, and closes the connection.
import assert from 'node:assert/strict';
import { AUTH_REFUSED_FEEDBACK, createAccessStage } from '../../handler/access';
import { RecordingSession } from '../support/recording-session';

describe('access stage - CONN_META and the secret key', () => {
  const keys = new Map([['s-mc', 'right']]);
  let authenticated: RecordingSession[];
  let rejected: { groupId: string; reason: string }[];
  let blocked: string | null;
  let looked: number;
  let access: ReturnType<typeof createAccessStage>;

  beforeEach(() => {
    authenticated = [];
    rejected = [];
    blocked = null;
    looked = 0;
    access = createAccessStage({
      authenticate: (groupId, secretKey) => {
        looked++;
        if (!keys.has(groupId)) return 'unknown group';
        return keys.get(groupId) === secretKey ? null : 'wrong key';
      },
      refuseUnchecked: () => blocked,
      onAuthenticated: (s) => authenticated.push(s as RecordingSession),
      onRejected: (_s, groupId, reason) => rejected.push({ groupId, reason }),
    });
  });

  const meta = (groupId: string, secretKey: string) => ({ groupId, secretKey, warmingupSec: 5 });

  it('authenticates the right key and answers CONN_AUTH true on the same opaque', () => {
    const session = new RecordingSession();
    access(session, 7, meta('s-mc', 'right'));
    assert.deepEqual([session.authenticated, session.groupId, session.warmingupSec], [true, 's-mc', 5]);
    assert.deepEqual(session.connAuths, [{ opaque: 7, status: true, feedback: 'secret key ok' }]);
    assert.deepEqual([authenticated, session.closed], [[session], false]);
  });

  it('answers a wrong key and an unknown group alike, keeps which it was for the log, and closes', () => {
    const wrongKey = new RecordingSession();
    const unknown = new RecordingSession();
    access(wrongKey, 1, meta('s-mc', 'guess'));
    access(unknown, 1, meta('s-nobody', 'right'));
    for (const session of [wrongKey, unknown]) {
      assert.deepEqual(session.connAuths, [{ opaque: 1, status: false, feedback: AUTH_REFUSED_FEEDBACK }]);
      assert.deepEqual([session.authenticated, session.closed], [false, true]);
    }
    assert.deepEqual(rejected, [
      { groupId: 's-mc', reason: 'wrong key' },
      { groupId: 's-nobody', reason: 'unknown group' },
    ]);
    assert.equal(authenticated.length, 0);
  });

  it('refuses without looking at the key when the lockout says so', () => {
    blocked = 'too many refused keys from 127.0.0.1';
    const session = new RecordingSession();
    access(session, 3, meta('s-mc', 'right'));
    assert.deepEqual(session.connAuths, [{ opaque: 3, status: false, feedback: blocked }]);
    assert.deepEqual([looked, session.authenticated, session.closed], [0, false, true]);
  });

  it('closes a connection that sends CONN_META a second time, without a new answer', () => {
    const session = new RecordingSession();
    access(session, 1, meta('s-mc', 'right'));
    access(session, 2, meta('s-mc', 'right'));
    assert.deepEqual([session.connAuths.length, session.closed, looked], [1, true, 1]);
  });
});
