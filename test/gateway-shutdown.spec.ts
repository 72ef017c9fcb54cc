// doc/http-gateway.md "Shutdown": stop() while HTTP publishes stream. The gateway stops taking
// connections with the native listener, publishes under way are waited for, later ones are
// refused retriably (503 + Retry-After, or the connection refused); every 201 is in the store when
// it is opened again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { directBinding } from '../binding/binding';
import { silentLogger } from '../server/logger';
import { openStore } from '../store/open';
import { rmSync, startBroker, tempDir } from './support/broker';
import { eventually } from './support/events';
import { type AgentAnswer, agentPublish } from './support/gateway-http';

describe('gateway - broker stop while HTTP publishes stream (file store)', function () {
  this.timeout(30_000);
  const dir = tempDir('kiteq-gateway-stop-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers each publish 201 (and stores it) or refuses it retriably; none is lost', async () => {
    const store = `file://${join(dir, 'store')}?fsync=batch`;
    // no group binds type "kept": every stored message stays in the store to be counted
    const env = await startBroker({
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      config: { store, gateway: '127.0.0.1:0' },
    });
    const gateway = env.broker.gatewayAddress;
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const answers: Promise<AgentAnswer>[] = [];
    let running = true;
    const lanes = Array.from({ length: 16 }, async (_, lane) => {
      for (let i = 0; running; i++) {
        const answer = agentPublish(agent, gateway, 'p-http:k', 'kept', `message ${lane * 100_000 + i}`);
        answers.push(answer);
        await answer;
      }
    });
    await eventually(() => answers.length > 300, 10_000, 'publishes under way');
    const stopped = env.stop();
    await eventually(async () => (await Promise.all(answers)).some((a) => a.status !== 201), 10_000, 'refusals');
    running = false;
    await Promise.all(lanes);
    await stopped;
    agent.destroy();
    const settled = await Promise.all(answers);
    const created = settled.filter((a) => a.status === 201).map((a) => JSON.parse(a.body).messageId as string);
    const others = settled.filter((a) => a.status !== 201);
    for (const refused of others) {
      assert.ok(refused.status === 0 || refused.status === 503, `${refused.status} ${refused.body}`);
      if (refused.status === 503) assert.equal(refused.headers['retry-after'], '1');
    }
    assert.ok(created.length > 300, `${created.length} answered 201`);
    const reopened = openStore(store, { serverName: 'check', logger: silentLogger() });
    await reopened.start();
    try {
      const missing: string[] = [];
      for (const id of created) if ((await reopened.get(id)) === undefined) missing.push(id);
      assert.deepEqual(missing, [], `${missing.length} of ${created.length} answered 201 not in the store`);
    } finally {
      await reopened.stop();
    }
  });
});
