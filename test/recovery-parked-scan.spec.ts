// doc/delivery.md "Recovery manager": a scan that re-drives parked messages (a group's first
// consumer, a binding change) takes each of them at most once per pass, and passes by a message
// that no group can receive now instead of parking it again.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { countdown, eventually } from './support/events';
import { captureLog } from './fixtures/fault/log-capture';
import { withBroker } from './support/with-broker';

// more than the scan lets be in flight at once (REDRIVE_MAX_IN_FLIGHT), so it pauses and acks land while it runs
const N = 12_000;

describe('recovery - a parked-message scan does not chase the messages it parks again', function () {
  this.timeout(60_000);
  const captured = captureLog();
  const env = withBroker({
    bindings: [directBinding('s-on', 'trade', 'pay-succ'), directBinding('s-off', 'trade', 'pay-succ')],
    brokerOptions: { log: captured.log },
  });

  const redriven = (lines: ReadonlyArray<Record<string, unknown>>) =>
    lines.reduce((sum, line) => sum + (line.redriven as number), 0);

  it('re-drives each parked message once when one of two offline groups connects', async () => {
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    for (let i = 0; i < N; i += 200) {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'x' })),
        ),
      );
    }
    const parked = async () =>
      await env.broker.store.pageDue({ dueBy: Number.MAX_SAFE_INTEGER, limit: N + 1, committed: true });
    await eventually(
      async () => {
        const page = await parked();
        return (
          page.length === N &&
          page.every((m) => m.failGroups.length === 0 && m.nextDeliverTime > Date.now() / 1000 + 30)
        );
      },
      20_000,
      `${N} messages parked for the two offline groups`,
    );
    captured.lines.length = 0;

    const received = new Set<string>();
    const got = countdown(N, 30_000, 'deliveries to s-on');
    await env.startClient({
      groupId: 's-on',
      publishTopics: ['trade'],
      listener: (m) => (received.add(m.header.messageId), got.tick(), true),
    });
    await got.done;
    // every message ends parked for s-off alone, and no scan is left running
    await eventually(
      async () => {
        const page = await parked();
        return !env.broker.recoveryScanning && page.length === N && page.every((m) => m.succGroups.includes('s-on'));
      },
      20_000,
      'acked by s-on and parked for s-off',
    );

    assert.equal(received.size, N);
    const scans = captured.find('recovery: re-drove due messages');
    assert.ok(scans.length >= 1, "the consumer's arrival started a scan");
    // the newest parks go out ahead of the scan (handler/recent-parks.ts)
    const early = captured.find('recovery: re-drove messages parked a moment ago');
    assert.equal(
      redriven(scans) + redriven(early),
      N,
      'each parked message re-driven once, none again after s-on acked it',
    );
  });
});
