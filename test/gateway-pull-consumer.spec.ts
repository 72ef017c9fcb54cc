// The gateway's pull consumer on its own (server/gateway/pull-consumer.ts, doc/http-gateway.md
// "Pull consume"), on a virtual clock: a delivery waits for a poll with no timeout (unless polls of
// other types pass it by), a full queue takes no delivery and re-drives when polls make room
// (throttled), a lease lasts the delivery timeout from the answer, acks and nacks settle only what is leased,
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
  outcome: boolean | 'handed back' | undefined;
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
  let rooms: number[];
  beforeEach(() => {
    clock = new VirtualClock(1_000_000);
    closed = [];
    rooms = [];
    consumer = new GatewayPullConsumer('s-http', {
      clock,
      log: silentLogger(),
      idleLimitMs: 60_000,
      onClose: (c) => closed.push(c),
      onAwaiting: () => undefined,
      onRoom: () => rooms.push(clock.nowMs()),
      queueMax: 3,
    });
  });

  it('a queued delivery runs no timeout; one passed by for the timeout fails; a polled one is leased', async () => {
    const unpolled = new Reply();
    consumer.deliver(0x12, delivery(id(1), 'refund'), unpolled);
    const polled = new Reply();
    consumer.deliver(0x12, delivery(id(2)), polled);
    clock.advance(TIMEOUT * 10);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(unpolled.outcome, undefined, 'no timeout while waiting for a poll');
    assert.equal(polled.outcome, undefined);
    assert.equal(consumer.passedOver, false);
    const got = await consumer.poll('trade', 'pay-succ', 10, 0).messages;
    assert.deepEqual(
      got.map((m) => m.messageId),
      [id(2)],
    );
    // the poll of pay-succ passed the refund by: nobody polls refund, so it fails a timeout later
    clock.advance(TIMEOUT - 1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(unpolled.outcome, undefined);
    clock.advance(1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(unpolled.outcome, false, 'passed by for the whole timeout');
    assert.equal(polled.outcome, false, 'the lease ran out too');
    assert.deepEqual(consumer.settle([id(2)], true), ['not leased']);
  });

  it('the lease counts from the answer, not from the delivery', async () => {
    const polled = new Reply();
    consumer.deliver(0x12, delivery(id(2)), polled);
    clock.advance(TIMEOUT * 3);
    await consumer.poll('trade', 'pay-succ', 10, 0).messages;
    assert.equal(consumer.passedOver, false, 'a poll makes it a candidate again');
    // the lease counts from the answer, not from the delivery
    clock.advance(TIMEOUT - 1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(polled.outcome, undefined);
    clock.advance(1);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(polled.outcome, false, 'lease ran out');
    assert.ok(consumer.passedOver, 'passed over for another consumer of the group meanwhile');
    consumer.deliver(0x12, delivery(id(3)), new Reply());
    await consumer.poll('trade', 'pay-succ', 10, 0).messages;
    assert.equal(consumer.passedOver, false, 'a poll makes it a candidate again');
  });

  it('full at the bound; polls that make room re-drive the group, at most once a second', async () => {
    for (let n = 1; n <= 3; n++) consumer.deliver(0x12, delivery(id(n)), new Reply());
    assert.equal(consumer.full, true);
    await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    assert.equal(consumer.full, false);
    assert.deepEqual(rooms, [clock.nowMs()], 're-driven once room is made');
    await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    assert.equal(rooms.length, 1, 'not full since: nothing to re-drive');
    for (let n = 4; n <= 5; n++) consumer.deliver(0x12, delivery(id(n)), new Reply());
    assert.equal(consumer.full, true);
    await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    assert.equal(rooms.length, 1, 'throttled');
    clock.advance(999);
    assert.equal(rooms.length, 1);
    clock.advance(1);
    assert.equal(rooms.length, 2, 'once the second has passed');
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

  it('a retry that an expiry starts at once, delivered back to it, is kept', async () => {
    const first = new Reply();
    const retry = new Reply();
    first.onResolve = () => consumer.deliver(0x12, delivery(id(1), 'pay-succ', 2), retry);
    consumer.deliver(0x12, delivery(id(1)), first);
    await consumer.poll('trade', 'refund', 10, 0).messages;
    clock.advance(TIMEOUT);
    consumer.expirePending(clock.nowMs(), TIMEOUT);
    assert.equal(first.outcome, false);
    assert.equal(consumer.readyCount, 1, 'the retry waits for a poll');
  });

  it('closing hands back what it queued, fails its leases, answers waiting polls with nothing, and leaves the registry', async () => {
    const leased = new Reply();
    const queued = new (class extends Reply {
      handBack(): void {
        assert.equal(this.outcome, undefined, 'settled once');
        this.outcome = 'handed back';
      }
    })();
    consumer.deliver(0x12, delivery(id(1)), leased);
    await consumer.poll('trade', 'pay-succ', 1, 0).messages;
    consumer.deliver(0x12, delivery(id(2), 'refund'), queued);
    const waiting = consumer.poll('trade', 'pay-succ', 10, 30_000);
    consumer.close('idle');
    assert.deepEqual(await waiting.messages, []);
    assert.equal(queued.outcome, 'handed back', 'never handed out: no attempt counted');
    assert.equal(leased.outcome, false);
    assert.deepEqual(closed, [consumer]);
    const late = new Reply();
    consumer.deliver(0x12, delivery(id(3)), late);
    assert.equal(late.outcome, false);
  });
});
