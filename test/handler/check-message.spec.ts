// doc/architecture.md §4, §5 "check-message": the header is normalised (create time, deliver
// limit, expiry) and a publish that cannot be served is refused with a reason a person can act on
// (KiteQ's texts, doc/protocol.md); only a checked message reaches persist.
import assert from 'node:assert/strict';
import { createCheckMessageStage, MAX_EXPIRY_SEC } from '../../handler/check-message';
import type { CheckedPublish, PublishEvent } from '../../handler/events';
import { CmdType } from '../../protocol/commands';
import { DELIVER_AT_PROPERTY } from '../../protocol/deliver-at';
import { decodeHeader, encodeHeader, type MessageHeader } from '../../protocol/messages/header';
import { decodeMessage, encodeMessage } from '../../protocol/messages/message';
import { Reasons } from '../../protocol/reasons';
import { aHeader } from '../support/messages';
import { RecordingSession } from '../support/recording-session';

describe('check-message stage - header checks and normalisation', () => {
  const nowMs = 1_700_000_000_000;
  const nowSec = nowMs / 1000;
  let persisted: CheckedPublish[];
  let session: RecordingSession;
  let check: ReturnType<typeof createCheckMessageStage>;

  beforeEach(() => {
    persisted = [];
    session = new RecordingSession({ groupId: 'p-trade', authenticated: true });
    check = createCheckMessageStage({
      servesTopic: (t) => t === 'trade',
      mayPublish: (g, t) => !(g === 'p-trade' && t === 'trade-audit'),
      serverName: '127.0.0.1:13800',
      maxDelayMs: 40 * 86_400_000,
      nowMs: () => nowMs,
      toPersist: (e) => persisted.push(e),
    });
  });

  const publish = (overrides: Partial<MessageHeader>): PublishEvent => {
    const header = aHeader({ createTime: nowSec, expiredTime: nowSec + 60, deliverLimit: 10, ...overrides });
    return {
      session,
      opaque: 3,
      message: { cmdType: CmdType.STRING_MESSAGE, header, body: 'x' },
      raw: Buffer.from('raw'),
      receivedAtMs: 0,
    };
  };
  const refusal = () => (
    assert.equal(persisted.length, 0),
    assert.equal(session.storeAcks.length, 1),
    session.storeAcks[0].feedback
  );

  it('refuses a message id that is not 32 hex characters', () => {
    check(publish({ messageId: 'not-a-uuid' }));
    assert.equal(refusal(), Reasons.invalidMessageId.text);
  });

  it("refuses a header naming another group than the connection's", () => {
    check(publish({ groupId: 'p-other' }));
    assert.ok(refusal().startsWith(Reasons.groupMismatch.text));
  });

  it('refuses a topic this broker does not serve, naming it', () => {
    check(publish({ topic: 'elsewhere' }));
    assert.equal(refusal(), `${Reasons.topicNotServed.text} (elsewhere)`);
  });

  it('refuses a topic the group may not publish to', () => {
    const checkAudit = createCheckMessageStage({
      servesTopic: () => true,
      mayPublish: () => false,
      serverName: 's',
      maxDelayMs: 40 * 86_400_000,
      nowMs: () => nowMs,
      toPersist: (e) => persisted.push(e),
    });
    checkAudit(publish({ topic: 'trade-audit' }));
    assert.ok(refusal().startsWith(Reasons.forbidden.text));
  });

  it('refuses an expiry already past with KiteQ\'s "Expired Message!"', () => {
    check(publish({ expiredTime: nowSec - 1 }));
    assert.equal(refusal(), 'Expired Message!');
  });

  it('normalises create time, deliver limit and expiry, and re-encodes the header once', () => {
    check(publish({ createTime: 0, deliverLimit: 0, expiredTime: 0 }));
    check(publish({ deliverLimit: 101, expiredTime: nowSec + MAX_EXPIRY_SEC + 1 }));
    assert.deepEqual(session.storeAcks, []);
    const [first, second] = persisted.map((e) => e.stored.header);
    assert.deepEqual([first.createTime, first.deliverLimit, first.expiredTime], [nowSec, 100, nowSec + 7 * 24 * 3600]);
    assert.deepEqual([second.deliverLimit, second.expiredTime], [100, nowSec + 7 * 24 * 3600]);
    assert.ok(
      persisted.every((e) => !e.rawIsDeliverable && e.stored.encodedHeader !== undefined),
      'the received bytes are stale',
    );
  });

  it('sets a missing expiry and re-encodes the header, every other field as it came', () => {
    // as a client sends it: expiredTime -1 (unset), a property; only the expiry changes
    const header = aHeader({
      createTime: nowSec,
      expiredTime: -1,
      deliverLimit: 10,
      properties: [{ key: 'k', value: 'v' }],
    });
    const raw = encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: Buffer.from('body') });
    check({ session, opaque: 3, message: decodeMessage(CmdType.BYTES_MESSAGE, raw), raw, receivedAtMs: 0 });
    const { stored, rawIsDeliverable } = persisted[0];
    assert.equal(rawIsDeliverable, false);
    const expected = { ...header, expiredTime: nowSec + MAX_EXPIRY_SEC };
    assert.deepEqual(decodeHeader(stored.encodedHeader!), expected);
    assert.deepEqual(stored.header, expected);
    // byte for byte what the client would have sent with that expiry
    assert.deepEqual(Buffer.from(stored.encodedHeader!), Buffer.from(encodeHeader(expected)));
  });

  it('lower-cases an uppercase message id along with the expiry', () => {
    const header = aHeader({ messageId: 'A'.repeat(32), createTime: nowSec, expiredTime: -1 });
    const raw = encodeMessage({ cmdType: CmdType.BYTES_MESSAGE, header, body: Buffer.from('body') });
    check({ session, opaque: 3, message: decodeMessage(CmdType.BYTES_MESSAGE, raw), raw, receivedAtMs: 0 });
    const expected = { ...header, messageId: 'a'.repeat(32), expiredTime: nowSec + MAX_EXPIRY_SEC };
    assert.deepEqual(decodeHeader(persisted[0].stored.encodedHeader!), expected);
  });

  it('keeps the received bytes as the delivery body when no field changed', () => {
    check(publish({}));
    assert.deepEqual([persisted[0].rawIsDeliverable, persisted[0].stored.encodedHeader], [true, undefined]);
    assert.deepEqual(
      [persisted[0].stored.kiteServer, persisted[0].stored.deliverCount, persisted[0].stored.succGroups],
      ['127.0.0.1:13800', 0, []],
    );
  });

  it('drops fly from a prepared message (fly only with commit) and lower-cases the id', () => {
    const id = 'ABCDEF0123456789ABCDEF0123456789';
    check(publish({ fly: true, commit: false, messageId: id }));
    assert.deepEqual([persisted[0].stored.header.fly, persisted[0].stored.header.messageId], [false, id.toLowerCase()]);
  });

  describe('kiteq.deliverAt (doc/delayed-delivery.md)', () => {
    const at = (value: string, overrides: Partial<MessageHeader> = {}) =>
      publish({ properties: [{ key: DELIVER_AT_PROPERTY, value }], ...overrides });

    it('refuses a value that is not epoch milliseconds as a decimal string, quoting it', () => {
      for (const value of [
        '',
        ' 1700000000000',
        '1700000000000.5',
        '-1',
        '1e12',
        '0x1F',
        'tomorrow',
        '99999999999999999',
      ]) {
        persisted.length = 0;
        session.storeAcks.length = 0;
        check(at(value));
        assert.equal(refusal(), `${Reasons.badDeliverAt.text} (got "${value}")`, value);
      }
    });

    it('refuses a time further ahead than the max delay, and a fly message with a time', () => {
      check(at(String(nowMs + 40 * 86_400_000 + 1)));
      assert.equal(refusal(), `${Reasons.delayTooLong.text} (3456000 s)`);
      session.storeAcks.length = 0;
      check(at(String(nowMs + 1000), { fly: true }));
      assert.equal(refusal(), Reasons.flyCannotBeDelayed.text);
    });

    it('refuses an expiry earlier than the delivery time', () => {
      check(at(String(nowMs + 61_000)));
      assert.ok(refusal().startsWith(Reasons.expiresBeforeDeliverAt.text));
    });

    it('stores the message due at the whole second at or after its time, never the one before', () => {
      check(at(String(nowMs + 30_500), { expiredTime: -1 }));
      check(at(String(nowMs + 30_000)));
      assert.deepEqual(session.storeAcks, []);
      const [inside, exact] = persisted.map((e) => e.stored);
      assert.equal(inside.nextDeliverTime, nowSec + 31);
      assert.equal(exact.nextDeliverTime, nowSec + 30);
      assert.equal(
        inside.header.expiredTime,
        nowSec + 31 + MAX_EXPIRY_SEC,
        'the default expiry counts from the delivery time',
      );
    });

    it('delivers a time already past at once, like a message without one', () => {
      check(at(String(nowMs - 5000)));
      assert.deepEqual([session.storeAcks.length, persisted[0].stored.nextDeliverTime], [0, nowSec]);
    });
  });
});
