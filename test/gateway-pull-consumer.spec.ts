// The gateway's pull consumer on its own (server/gateway/pull-consumer.ts, doc/http-gateway.md
// "Pull consume"), on a virtual clock: a delivery waits for a poll at most the delivery timeout,
// a lease lasts the delivery timeout from the answer, acks and nacks settle only what is leased,
// a retry started by an expiry is not lost, and closing fails everything it holds.
import assert from 'node:assert/strict';
import type { Delivery, PendingReply } from '../handler/session-port';
import { VirtualClock } from '../server/clock';
import { GatewayPullConsumer } from '../server/gateway/pull-consumer';
import { silentLogger } from '../server/logger';
import { aMessage } from './support/messages';

const TIMEOUT = 5000;

function delivery(id: string, messageType = 'pay-succ', attempt = 1): Delivery {
  const message = aMessage({ messageId: id, topic: 'trade', messageType });
  return { message, attempt, size: () => 0, tail: () => null, writeTo: () => undefined };
}

class Reply implements PendingReply {
  outcome: boolean | undefined;
  onResolve: (() => void) | undefined;
  resolve(status: boolean): void {
    assert.equal(this.outcome, undefined, 'settled once');
    this.outcome = status;
    this.onResolve?.();
  }
}

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('gateway pull consumer', () => {
  let clock: VirtualClock;
  let consumer: GatewayPullConsumer;
  let closed: GatewayPullConsumer[];
  beforeEach(() => {
    clock = new VirtualClock(1_000_000);
    closed = [];
    consumer = new GatewayPullConsumer('s-http', {
      clock,
      log: silentLogger(),
      idleLimitMs: 60_000,
      onClose: (c) => closed.push(c),
    });
  });

  it('a delivery nobody polls within the delivery timeout fails; one polled in time is leased', async () => {
    const unpolled = new Reply();
    consumer.deliver(0x12, delivery(id(1)), unpolled);
    clock.advance(TIMEOUT - 1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(unpolled.outcome, undefined);
    const polled = new Reply();
    consumer.deliver(0x12, delivery(id(2)), polled);
    clock.advance(1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(unpolled.outcome, false, 'waited the whole timeout for a poll');
    assert.ok(consumer.passedOver, 'passed over for another consumer of the group meanwhile');
    const got = await consumer.poll('trade', 'pay-succ', 10, 0).messages;
    assert.deepEqual(
      got.map((m) => m.messageId),
      [id(2)],
    );
    assert.equal(consumer.passedOver, false, 'a poll makes it a candidate again');
    // the lease counts from the answer, not from the delivery
    clock.advance(TIMEOUT - 1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(polled.outcome, undefined);
    clock.advance(1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(polled.outcome, false, 'lease ran out');
    assert.deepEqual(consumer.settle([id(2)], true), ['not leased']);
  });

  it('acks and nacks settle leased ids only, each once', async () => {
    const [a, b] = [new Reply(), new Reply()];
    consumer.deliver(0x12, delivery(id(1)), a);
    consumer.deliver(0x12, delivery(id(2)), b);
    await consumer.poll('trade', 'pay-succ', 10, 0).messages;
    assert.deepEqual(consumer.settle([id(1).toUpperCase(), id(9)], true), ['acked', 'not leased']);
    assert.deepEqual(consumer.settle([id(2)], false), ['nacked']);
    assert.deepEqual(consumer.settle([id(1), id(2)], true), ['not leased', 'not leased']);
    assert.equal(a.outcome, true);
    assert.equal(b.outcome, false);
  });

  it('a poll takes only its topic and type (or any type with *), up to max; a waiting poll gets what arrives', async () => {
    consumer.deliver(0x12, delivery(id(1), 'refund'), new Reply());
    consumer.deliver(0x12, delivery(id(2)), new Reply());
    consumer.deliver(0x12, delivery(id(3)), new Reply());
    const first = await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    assert.deepEqual(
      first.map((m) => m.messageId),
      [id(2)],
    );
    const any = await consumer.poll('trade', '*', 10, 0).messages;
    assert.deepEqual(
      any.map((m) => m.messageId),
      [id(1), id(3)],
    );
    const waiting = consumer.poll('trade', 'pay-succ', 10, 30_000);
    assert.equal(consumer.lastSeenMs, clock.nowMs(), 'a waiting poll is activity');
    consumer.deliver(0x12, delivery(id(4)), new Reply());
    consumer.deliver(0x12, delivery(id(5)), new Reply());
    const arrived = await waiting.messages; // answered on the next turn, both together
    assert.deepEqual(
      arrived.map((m) => m.messageId),
      [id(4), id(5)],
    );
    const empty = consumer.poll('trade', 'pay-succ', 10, 2000);
    clock.advance(2000);
    assert.deepEqual(await empty.messages, []);
  });

  it('a retry that an expiry starts at once, delivered back to it, is kept', () => {
    const first = new Reply();
    const retry = new Reply();
    first.onResolve = () => consumer.deliver(0x12, delivery(id(1), 'pay-succ', 2), retry);
    consumer.deliver(0x12, delivery(id(1)), first);
    clock.advance(TIMEOUT);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(first.outcome, false);
    assert.equal(consumer.readyCount, 1, 'the retry waits for a poll');
  });

  it('closing fails what it holds, answers waiting polls with nothing, and leaves the registry', async () => {
    const [queued, leased] = [new Reply(), new Reply()];
    consumer.deliver(0x12, delivery(id(1)), leased);
    await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    consumer.deliver(0x12, delivery(id(2), 'refund'), queued);
    const waiting = consumer.poll('trade', 'pay-succ', 10, 30_000);
    consumer.close('idle');
    assert.deepEqual(await waiting.messages, []);
    assert.equal(queued.outcome, false);
    assert.equal(leased.outcome, false);
    assert.deepEqual(closed, [consumer]);
    const late = new Reply();
    consumer.deliver(0x12, delivery(id(3)), late);
    assert.equal(late.outcome, false);
  });
});
