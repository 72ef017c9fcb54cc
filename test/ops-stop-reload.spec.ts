// doc/operations.md: stop() may be called more than once (SIGTERM then SIGINT, a test's after
// hook) and every call returns once the broker has stopped; a reload that changes the groups file
// re-checks the registry's bindings against it at once, not at the registry's next change.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { GroupConfig } from '../server/groups';
import { captureLog } from './fixtures/fault/log-capture';
import { startBroker } from './support/broker';
import { withBroker } from './support/with-broker';

describe('ops - stop() called twice', function () {
  this.timeout(20_000);

  it('returns from the second call only once the broker has stopped', async () => {
    const captured = captureLog();
    const env = await startBroker({ bindings: [], brokerOptions: { log: captured.log } });
    const first = env.broker.stop(2000);
    await env.broker.stop(2000);
    assert.equal(captured.find('kiteq-ts broker stopped').length, 1, 'stopped when the second call returns');
    await first;
    await env.stop(); // a third call: returns at once, stops nothing twice
    assert.equal(captured.find('kiteq-ts broker stopped').length, 1);
  });
});

describe('ops - reload re-checks bindings against the new groups', function () {
  this.timeout(20_000);
  let groups: GroupConfig[] = [{ groupId: 's-mc', secretKey: 'k', subscribe: ['user-profile'] }];
  const env = withBroker(() => ({
    topics: ['trade', 'user-profile'],
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { groups },
    brokerOptions: { loadConfig: () => ({ ...env.broker.config, groups }) },
  }));

  const bound = () => env.broker.bindingTable.bindings.map((b) => `${b.groupId}:${b.topic}/${b.messageType}`);

  it('honours a binding the new groups allow, and drops one they forbid, when the reload returns', async () => {
    assert.deepEqual(bound(), [], 's-mc may not subscribe to trade at start');
    groups = [{ groupId: 's-mc', secretKey: 'k', subscribe: ['trade'] }];
    assert.deepEqual((await env.broker.reload()).applied, ['groups']);
    assert.deepEqual(bound(), ['s-mc:trade/pay-succ']);
    groups = [{ groupId: 's-mc', secretKey: 'k', subscribe: [] }];
    await env.broker.reload();
    assert.deepEqual(bound(), []);
  });
});
