#!/usr/bin/env node
// The payment service of the pay-succ example (doc/transactions.md). For each order it
// opens a MariaDB transaction, publishes `trade / pay-succ` with sendTx, and inside the
// local transaction inserts the order row and commits the database: the broker holds the
// message prepared until then, commits it when the database committed, and rolls it back when
// the database transaction failed. If the process dies between its database commit and its
// TX_ACK, the broker asks any live instance of the group (check-back), and the check listener
// answers by looking the order up in MariaDB.
//
//   node dist/examples/pay-succ/payment-service.js --registry file://examples/pay-succ/registry.yaml \
//     --mysql mysql://root@127.0.0.1:3306/pay_succ --orders 10 [--fail-every 4] [--crash-after-commit 7]
import { parseArgs } from 'node:util';
import { buildStringMessage, KiteQClient, type Message, messageProperties, type TxDecision } from '../../client';
import { insertOrder, openPool, ORDERS_SCHEMA, orderExists } from './orders-db';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'file://examples/pay-succ/registry.yaml' },
    mysql: { type: 'string', default: 'mysql://root@127.0.0.1:3306/pay_succ' },
    group: { type: 'string', default: 'p-pay' },
    'secret-key': { type: 'string', default: 'secret' },
    orders: { type: 'string', default: '10' },
    'first-order': { type: 'string', default: '1' },
    /** every k-th order's database transaction fails (a declined card): its message is rolled back */
    'fail-every': { type: 'string', default: '0' },
    /** simulate a crash: after the database commit of this order, SIGKILL ourselves before the TX_ACK */
    'crash-after-commit': { type: 'string', default: '0' },
    /** an order not in the database after this many seconds was rolled back for good */
    'decide-after-sec': { type: 'string', default: '30' },
  },
});

const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const pool = openPool(values.mysql!);
  await pool.query(ORDERS_SCHEMA);
  const decideAfterSec = Number(values['decide-after-sec']);

  // Check-back (doc/architecture.md §7): the broker asks about a message we published but never decided.
  async function onMessageCheck(message: Pick<Message, 'header'>): Promise<TxDecision> {
    const { orderId } = messageProperties(message);
    if (await orderExists(pool, orderId)) return 'commit';
    // Not there: either its transaction is still running (ask again later) or it never committed.
    const ageSec = Date.now() / 1000 - (message.header.createTime ?? 0);
    return ageSec > decideAfterSec ? 'rollback' : 'unknown';
  }

  const client = new KiteQClient({
    registry: values.registry!,
    groupId: values.group!,
    secretKey: values['secret-key']!,
    publishTopics: ['trade'],
    txCheckListener: async (message) => {
      const decision = await onMessageCheck(message);
      say({ event: 'checkBack', orderId: messageProperties(message).orderId, decision });
      return decision;
    },
  });
  await client.start();
  say({ event: 'ready', pid: process.pid });

  const first = Number(values['first-order']);
  const failEvery = Number(values['fail-every']);
  const crashAfter = Number(values['crash-after-commit']);
  for (let n = first; n < first + Number(values.orders); n++) {
    const orderId = `order-${n}`;
    const amountCents = 1000 + n;
    const message = buildStringMessage({
      topic: 'trade',
      messageType: 'pay-succ',
      body: JSON.stringify({ orderId, amountCents }),
      properties: { orderId },
    });
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      const decision = await client.sendTx(message, async () => {
        // Runs after the broker stored the message (prepared, not deliverable yet).
        try {
          await insertOrder(conn, orderId, amountCents, message.header.messageId);
          if (failEvery > 0 && n % failEvery === 0) throw new Error(`card declined for ${orderId}`);
          await conn.commit();
        } catch (error) {
          await conn.rollback();
          throw error; // → TX_ACK rollback, with the error text as feedback
        }
        say({ event: 'dbCommitted', orderId, messageId: message.header.messageId });
        if (n === crashAfter) {
          say({ event: 'crashing', orderId }); // stdout to a pipe is synchronous: the line is out
          // Die at once, like a crash: a process left hanging here would still answer the broker's
          // check-back for this very order (its client is alive), and nothing would be left to test.
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined);
        }
        return true; // → TX_ACK commit
      });
      say({ event: decision === 'commit' ? 'paid' : 'declined', orderId, messageId: message.header.messageId });
    } finally {
      conn.release();
    }
  }
  say({ event: 'done' });
  // Stay up to answer check-backs until stopped (SIGTERM).
  process.once(
    'SIGTERM',
    () =>
      void client
        .close({ drain: true })
        .then(() => pool.end())
        .then(() => process.exit(0)),
  );
}

main().catch((error) => {
  process.stderr.write(`payment-service: ${(error as Error).stack}\n`);
  process.exit(1);
});
