#!/usr/bin/env node
// The order keeper of the order-timeout example: group s-order receives `pay-succ` and
// `order-timeout` on topic trade. A timeout for an order that was paid meanwhile changes nothing;
// otherwise the order is cancelled. It prints how late each timeout came (receive time − its
// kiteq.deliverAt), never negative. The paid orders are kept in memory here; a real service looks
// them up in its database, since a timeout may reach another instance of the group.
//
//   node dist/examples/order-timeout/order-keeper.js --registry file://examples/order-timeout/registry.yaml
import { parseArgs } from 'node:util';
import { directBinding, KiteQClient, messageProperties } from '../../client';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'file://examples/order-timeout/registry.yaml' },
    group: { type: 'string', default: 's-order' },
    'secret-key': { type: 'string', default: 'secret' },
  },
});

const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const paid = new Set<string>();
  const group = values.group!;
  const client = new KiteQClient({
    registry: values.registry!,
    groupId: group,
    secretKey: values['secret-key']!,
    bindings: [directBinding(group, 'trade', 'pay-succ'), directBinding(group, 'trade', 'order-timeout')],
    listener: (message) => {
      const properties = messageProperties(message);
      const { orderId } = properties;
      if (message.header.messageType === 'pay-succ') {
        paid.add(orderId);
        return true;
      }
      const lateMs = Date.now() - Number(properties['kiteq.deliverAt']);
      say({ event: paid.has(orderId) ? 'kept' : 'cancelled', orderId, lateMs });
      return true;
    },
  });
  await client.start();
  say({ event: 'ready', pid: process.pid });
  process.once('SIGTERM', () => void client.close({ drain: true }).then(() => process.exit(0)));
}

main().catch((error) => {
  process.stderr.write(`order-keeper: ${(error as Error).stack}\n`);
  process.exit(1);
});
