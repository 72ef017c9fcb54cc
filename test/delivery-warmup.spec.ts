// doc/architecture.md §5 deliver: a consumer connected with warmingupSec > 0 gets a share of its group's
// traffic that grows linearly (weight seconds-since-auth / warmingupSec) until warm. Virtual clock.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { VirtualClock } from '../server/clock';
import { countdown } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery warm-up - one warm consumer, one warming up over 10 s', function () {
  this.timeout(60_000);
  const clock = new VirtualClock();
  const binding = directBinding('s-pool', 'trade', 'pay-succ', { watermark: 100_000 });
  const env = withBroker({ bindings: [binding], brokerOptions: { clock } });

  it('gives the warming consumer a small share at first that grows to half', async () => {
    const counts = { warm: 0, warming: 0 };
    let phase: ReturnType<typeof countdown> | null = null;
    const consumer = async (name: keyof typeof counts, warmingupSec: number) => {
      await env.startClient({
        groupId: 's-pool',
        bindings: [binding],
        warmingupSec,
        listener: () => (counts[name]++, phase?.tick(), true),
      });
    };
    await consumer('warm', 0);
    await consumer('warming', 10); // authenticated now: its warm-up starts at this virtual time
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });

    const perPhase = 400;
    const share = async (atSec: number, sinceSec: number): Promise<number> => {
      clock.advance((atSec - sinceSec) * 1000);
      counts.warm = counts.warming = 0;
      phase = countdown(perPhase, 20_000, `deliveries at ${atSec} s`);
      await Promise.all(
        Array.from({ length: perPhase }, (_, i) =>
          producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `${atSec}:${i}` })),
        ),
      );
      await phase.done;
      return counts.warming / perPhase;
    };
    const at1 = await share(1, 0); // weight 0.1 → ~9 %
    const at5 = await share(5, 1); // weight 0.5 → ~33 %
    const at12 = await share(12, 5); // warm → ~50 %
    assert.ok(at1 < 0.18, `share after 1 s: ${at1}`);
    assert.ok(at5 > at1 && at5 > 0.2 && at5 < 0.45, `share after 5 s: ${at5} (after 1 s: ${at1})`);
    assert.ok(at12 > at5 && at12 > 0.4, `share once warm: ${at12} (after 5 s: ${at5})`);
  });
});
