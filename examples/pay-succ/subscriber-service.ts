#!/usr/bin/env node
// The subscriber service of the pay-succ example: group s-order-audit bound to topic trade with a
// messageType filter (direct binding on "pay-succ"; a regx binding such as "pay-.*" works the
// same). It records every message it receives in MariaDB (table received), once per messageId:
// delivery is at-least-once (doc/architecture.md §6), so the consumer is idempotent.
//
//   node dist/examples/pay-succ/subscriber-service.js --registry file://examples/pay-succ/registry.yaml \
//     --mysql mysql://root@127.0.0.1:3306/pay_succ
import { parseArgs } from 'node:util';
import { directBinding, KiteQClient, messageProperties } from '../../client';
import { openPool, RECEIVED_SCHEMA } from './orders-db';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'file://examples/pay-succ/registry.yaml' },
    mysql: { type: 'string', default: 'mysql://root@127.0.0.1:3306/pay_succ' },
    group: { type: 'string', default: 's-order-audit' },
    'secret-key': { type: 'string', default: 'secret' },
  },
});

const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const pool = openPool(values.mysql!);
  await pool.query(RECEIVED_SCHEMA);
  const client = new KiteQClient({
    registry: values.registry!,
    groupId: values.group!,
    secretKey: values['secret-key']!,
    bindings: [directBinding(values.group!, 'trade', 'pay-succ')],
    listener: async (message) => {
      const { orderId } = messageProperties(message);
      await pool.query(
        'INSERT INTO received (message_id, order_id) VALUES (?, ?) ON DUPLICATE KEY UPDATE deliveries = deliveries + 1',
        [message.header.messageId, orderId],
      );
      say({ event: 'received', orderId, messageId: message.header.messageId });
      return true; // acked only once recorded
    },
  });
  await client.start();
  say({ event: 'ready', pid: process.pid });
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
  process.stderr.write(`subscriber-service: ${(error as Error).stack}\n`);
  process.exit(1);
});
