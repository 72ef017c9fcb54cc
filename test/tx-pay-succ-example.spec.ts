// The example users copy (examples/pay-succ), run as real processes against a real
// MariaDB. The payment service dies (SIGKILL) between its database commit and its TX_ACK;
// another instance answers the check-back from MariaDB; the subscriber receives a message
// exactly for the orders that committed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { directBinding } from '../binding/binding';
import { type JsonLinesProcess, startJsonLinesProcess } from './fixtures/tx-process';
import { eventually } from './support/events';
import { startBroker, type TestBroker } from './support/broker';
import { connectMariaDb, MARIADB_HOST, MARIADB_PORT } from './support/mariadb';

const EXAMPLE = resolve(__dirname, '..', 'examples', 'pay-succ');

describe('tx example pay-succ - payment service killed between its DB commit and its TX_ACK', function () {
  this.timeout(60_000);
  let env: TestBroker;
  let sql: Connection;
  const db = `kiteq_test_paysucc_${randomBytes(4).toString('hex')}`;
  const processes: JsonLinesProcess[] = [];

  before(async () => {
    sql = await connectMariaDb();
    await sql.query(`CREATE DATABASE \`${db}\``);
    env = await startBroker({
      bindings: [directBinding('s-order-audit', 'trade', 'pay-succ')],
      config: { txCheckAgeSec: 1, txCheckIntervalSec: 1 },
    });
  });
  after(async () => {
    for (const p of processes) await p.kill();
    await env?.stop();
    await sql?.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await sql?.end();
  });

  const common = () => ['--registry', env.registryUri, '--mysql', `mysql://root@${MARIADB_HOST}:${MARIADB_PORT}/${db}`];
  const run = (script: string, args: string[]) => {
    const p = startJsonLinesProcess(resolve(EXAMPLE, script), [...common(), ...args]);
    processes.push(p);
    return p;
  };

  it('delivers the message for every committed order, exactly once, and none for the declined ones', async () => {
    const subscriber = run('subscriber-service.js', []);
    await subscriber.waitFor('ready', 1, 15_000);
    // Orders 1..7: 3 and 6 declined (DB rolled back), 7 committed in MariaDB and then the process
    // SIGKILLs itself, so that no check-back can reach it after its commit.
    const payment = run('payment-service.js', ['--orders', '7', '--fail-every', '3', '--crash-after-commit', '7']);
    await payment.waitFor('crashing', 1, 20_000);
    await payment.exited;
    assert.equal(payment.child.signalCode, 'SIGKILL', 'the payment service died of SIGKILL');
    const crashed = payment.events.filter((e) => e.event === 'dbCommitted').at(-1)?.messageId as string;
    assert.equal(
      (await env.broker.store.get(crashed))?.header.commit,
      false,
      'order-7 committed in MariaDB, still prepared at the broker',
    );

    const standby = run('payment-service.js', ['--orders', '0']); // another instance of the group p-pay
    await standby.waitFor('checkBack', 1, 15_000);
    const expected = ['order-1', 'order-2', 'order-4', 'order-5', 'order-7'];
    const received = async () =>
      (await sql.query(`SELECT order_id, deliveries FROM \`${db}\`.received ORDER BY order_id`))[0] as {
        order_id: string;
        deliveries: number;
      }[];
    await eventually(
      async () => (await received()).length >= expected.length,
      15_000,
      'the subscriber recorded the committed orders',
    );
    await eventually(
      async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
      10_000,
      'the broker holds nothing undecided',
    );
    const [orders] = await sql.query(`SELECT order_id FROM \`${db}\`.orders ORDER BY order_id`);
    assert.deepEqual(
      (orders as { order_id: string }[]).map((r) => r.order_id),
      expected,
      'the committed orders in MariaDB',
    );
    assert.deepEqual(
      await received(),
      expected.map((order_id) => ({ order_id, deliveries: 1 })),
      'one message per committed order, each once',
    );
    assert.deepEqual(
      standby.events.filter((e) => e.event === 'checkBack').map((e) => [e.orderId, e.decision]),
      [['order-7', 'commit']],
    );
  });
});
