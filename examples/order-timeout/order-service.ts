#!/usr/bin/env node
// The order service of the order-timeout example (doc/delayed-delivery.md). For each order it
// schedules `trade / order-timeout` to be delivered --timeout-ms later ("close this unpaid order in
// 30 minutes"), then, unless the buyer walks away, publishes `trade / pay-succ`. The broker keeps
// the timeout message stored, through restarts, and delivers it no earlier than its time.
//
//   node dist/examples/order-timeout/order-service.js --registry file://examples/order-timeout/registry.yaml \
//     --orders 10 [--unpaid-every 3] [--timeout-ms 1800000]
import { parseArgs } from 'node:util';
import { buildStringMessage, KiteQClient } from '../../client';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'file://examples/order-timeout/registry.yaml' },
    group: { type: 'string', default: 'p-order' },
    'secret-key': { type: 'string', default: 'secret' },
    orders: { type: 'string', default: '10' },
    /** every k-th order is never paid: its timeout cancels it */
    'unpaid-every': { type: 'string', default: '3' },
    'timeout-ms': { type: 'string', default: String(30 * 60_000) },
  },
});

const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const client = new KiteQClient({
    registry: values.registry!,
    groupId: values.group!,
    secretKey: values['secret-key']!,
    publishTopics: ['trade'],
  });
  await client.start();
  const unpaidEvery = Number(values['unpaid-every']);
  const timeoutMs = Number(values['timeout-ms']);
  for (let n = 1; n <= Number(values.orders); n++) {
    const orderId = `order-${n}`;
    const timeout = buildStringMessage({
      topic: 'trade',
      messageType: 'order-timeout',
      body: JSON.stringify({ orderId }),
      properties: { orderId },
    });
    // Stored by the broker now (the ack says so), delivered no earlier than timeoutMs from now.
    await client.send(timeout, { delayMs: timeoutMs });
    say({ event: 'scheduled', orderId, messageId: timeout.header.messageId, timeoutMs });
    if (unpaidEvery > 0 && n % unpaidEvery === 0) continue; // the buyer walked away
    await client.send(
      buildStringMessage({
        topic: 'trade',
        messageType: 'pay-succ',
        body: JSON.stringify({ orderId }),
        properties: { orderId },
      }),
    );
    say({ event: 'paid', orderId });
  }
  say({ event: 'done' });
  await client.close({ drain: true });
}

main().catch((error) => {
  process.stderr.write(`order-service: ${(error as Error).stack}\n`);
  process.exit(1);
});
