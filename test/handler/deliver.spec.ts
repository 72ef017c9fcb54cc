// doc/architecture.md §5 "deliver", doc/delivery.md: each attempt goes to one consumer of each
// group; a consumer in its warm-up window is picked with probability seconds-since-auth / warm-up
// seconds; a group with no consumer online counts as delivered only if it is not persistent; a
// group's outcome is settled once.
import assert from 'node:assert/strict';
import { directBinding } from '../../binding/binding';
import { createDeliverStage, pickConsumer, warmupWeight } from '../../handler/deliver';
import { DeliveryJob } from '../../handler/delivery-job';
import { StageError } from '../../handler/stage-error';
import { aMessage } from '../support/messages';
import { RecordingSession } from '../support/recording-session';

describe('deliver stage - one consumer per group', () => {
  const nowMs = 1_000_000;
  let consumers: Map<string, RecordingSession[]>;
  let settled: { groupId: string; ok: boolean }[];
  let random: number;
  let deliver: ReturnType<typeof createDeliverStage>;

  beforeEach(() => {
    consumers = new Map();
    settled = [];
    random = 0;
    deliver = createDeliverStage({
      consumersOf: (g) => consumers.get(g) ?? [],
      nowMs: () => nowMs,
      random: () => random,
      settle: (_job, groupId, ok) => settled.push({ groupId, ok }),
    });
  });

  const job = () => new DeliveryJob(aMessage(), 1, [directBinding('s-mc', 'trade', 'pay-succ')], false);

  it('sends to one consumer of the group and settles the group with its reply, once', () => {
    const a = new RecordingSession({ groupId: 's-mc', authenticated: true });
    const b = new RecordingSession({ groupId: 's-mc', authenticated: true });
    consumers.set('s-mc', [a, b]);
    random = 0.75;
    deliver(job(), directBinding('s-mc', 'trade', 'pay-succ'));
    assert.deepEqual([a.deliveries.length, b.deliveries.length], [0, 1]);
    const { pending } = b.deliveries[0];
    pending.resolve(true);
    pending.resolve(false); // a timeout firing after the ack changes nothing
    assert.deepEqual(settled, [{ groupId: 's-mc', ok: true }]);
  });

  it('counts a group with no consumer online as delivered only when it is not persistent', () => {
    deliver(job(), directBinding('s-mc', 'trade', 'pay-succ'));
    deliver(job(), directBinding('s-gone', 'trade', 'pay-succ', { persistent: false }));
    assert.deepEqual(settled, [
      { groupId: 's-mc', ok: false },
      { groupId: 's-gone', ok: true },
    ]);
  });

  it("fails that group's attempt, once, when writing the delivery throws, and names the stage", () => {
    const broken = new RecordingSession({ groupId: 's-mc', authenticated: true });
    broken.deliver = () => {
      throw new Error('socket buffer gone');
    };
    consumers.set('s-mc', [broken]);
    assert.throws(
      () => deliver(job(), directBinding('s-mc', 'trade', 'pay-succ')),
      (e: unknown) => e instanceof StageError && e.stage === 'deliver',
    );
    assert.deepEqual(settled, [{ groupId: 's-mc', ok: false }]);
  });

  it('weighs a warming-up consumer by seconds since auth over its warm-up seconds', () => {
    const warm = new RecordingSession({ authAtMs: 0, warmingupSec: 0 });
    const cold = new RecordingSession({ authAtMs: nowMs - 2_000, warmingupSec: 10 });
    assert.deepEqual([warmupWeight(warm, nowMs), warmupWeight(cold, nowMs)], [1, 0.2]);
    assert.equal(warmupWeight(cold, nowMs + 8_000), 1, 'warm once the window has passed');
    // total weight 1.2: the cold consumer gets the top 0.2/1.2 of random()'s range
    assert.equal(
      pickConsumer(
        [warm, cold],
        () => nowMs,
        () => 0.8,
      ),
      warm,
    );
    assert.equal(
      pickConsumer(
        [warm, cold],
        () => nowMs,
        () => 0.85,
      ),
      cold,
    );
  });
});
