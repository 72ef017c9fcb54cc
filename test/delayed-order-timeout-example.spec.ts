// The example users copy (examples/order-timeout), run as real processes: every order gets its
// timeout no earlier than scheduled, and exactly the unpaid ones are cancelled.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { directBinding } from '../binding/binding';
import { type JsonLinesProcess, startJsonLinesProcess } from './fixtures/tx-process';
import { startBroker, type TestBroker } from './support/broker';

const EXAMPLE = resolve(__dirname, '..', 'examples', 'order-timeout');

describe('delayed delivery example order-timeout - unpaid orders cancelled at their timeout', function () {
  this.timeout(60_000);
  let env: TestBroker;
  const processes: JsonLinesProcess[] = [];

  before(async () => {
    env = await startBroker({
      bindings: [directBinding('s-order', 'trade', 'pay-succ'), directBinding('s-order', 'trade', 'order-timeout')],
    });
  });
  after(async () => {
    for (const p of processes) await p.kill();
    await env?.stop();
  });

  const run = (script: string, args: string[]) => {
    const p = startJsonLinesProcess(resolve(EXAMPLE, script), ['--registry', env.registryUri, ...args]);
    processes.push(p);
    return p;
  };

  it('keeps the paid orders and cancels the unpaid ones, each timeout at or after its time', async () => {
    const keeper = run('order-keeper.js', []);
    await keeper.waitFor('ready', 1, 15_000);
    const service = run('order-service.js', ['--orders', '6', '--unpaid-every', '3', '--timeout-ms', '2000']);
    await service.waitFor('done', 1, 15_000);
    await keeper.waitFor('kept', 4, 15_000);
    await keeper.waitFor('cancelled', 2, 15_000);
    const outcome = (event: string) =>
      keeper.events
        .filter((e) => e.event === event)
        .map((e) => e.orderId)
        .sort();
    assert.deepEqual(outcome('cancelled'), ['order-3', 'order-6']);
    assert.deepEqual(outcome('kept'), ['order-1', 'order-2', 'order-4', 'order-5']);
    const late = keeper.events.filter((e) => 'lateMs' in e).map((e) => e.lateMs as number);
    assert.ok(
      late.every((ms) => ms >= 0),
      `none early: ${late}`,
    );
  });
});
