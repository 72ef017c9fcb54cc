// The HTTP gateway's consumers (doc/http-gateway.md "Pull consume", "Webhook push"): one pull
// consumer per polling group, made by its first poll and closed after --gateway-idle without one;
// one webhook consumer per group the groups file gives a webhook. Each joins the Sessions registry
// as a consumer connection of its group does, so the delivery engine treats it the same.
import { type Binding, directBinding, fanoutBinding } from '../../binding/binding';
import type { Registry } from '../../binding/registry';
import type { Clock } from '../clock';
import type { GroupAccess } from '../groups';
import type { Logger } from '../logger';
import { GatewayPullConsumer } from './pull-consumer';
import { GatewayWebhookConsumer } from './webhook-consumer';

export type GatewayConsumer = GatewayPullConsumer | GatewayWebhookConsumer;

/**
 * (topic, type) bindings one group may make by polling: each is kept for the broker's life and
 * written to the registry, so a group cannot grow them without bound by polling made-up types.
 */
export const MAX_GATEWAY_BINDINGS_PER_GROUP = 32;
export const MAX_MESSAGE_TYPE_LENGTH = 128;

/** A poll the gateway refuses to bind (the route answers 400 with it). */
export class BindingRefused extends Error {}

export interface GatewayConsumersDeps {
  clock: Clock;
  log: Logger;
  /** --gateway-idle in ms */
  idleLimitMs: number;
  /** read at each use: a reload's groups apply at once */
  access: () => GroupAccess;
  /** the broker's consumer registry: joined like an authenticated connection, left like a closed one */
  join: (consumer: GatewayConsumer) => void;
  leave: (consumer: GatewayConsumer) => void;
  /** it holds deliveries that can time out: the broker's sweep looks at it until it holds none */
  awaiting: (consumer: GatewayConsumer) => void;
  /** a pull consumer's full queue has room again: re-drive the group's parked messages */
  onRoom: (groupId: string) => void;
  bindings: {
    addLocal(binding: Binding): boolean;
    localOf(groupId: string): Binding[];
    registryBindingsOf(groupId: string, topic: string): Binding[];
  };
  /** null before the broker started */
  registry: () => Pick<Registry, 'subscribe'> | null;
}

export class GatewayConsumers {
  private readonly pulls = new Map<string, GatewayPullConsumer>();
  private readonly webhooks = new Map<string, GatewayWebhookConsumer>();

  constructor(private readonly deps: GatewayConsumersDeps) {}

  /** The group's pull consumer, if one is open (acks to a released one settle nothing). */
  pullConsumerOf(groupId: string): GatewayPullConsumer | undefined {
    return this.pulls.get(groupId);
  }

  /**
   * A poll: binds the group to (topic, type) if it is not yet (a persistent binding, published as a
   * client's bindings are), then the group's pull consumer, joining it to the registry if it was
   * released. The binding comes first, so the consumer's arrival re-drives what waited for it.
   * Throws BindingRefused past the bounds above.
   */
  pollingConsumer(groupId: string, topic: string, messageType: string): GatewayPullConsumer {
    this.bind(groupId, topic, messageType);
    let consumer = this.pulls.get(groupId);
    if (!consumer) {
      consumer = new GatewayPullConsumer(groupId, {
        clock: this.deps.clock,
        log: this.deps.log,
        idleLimitMs: this.deps.idleLimitMs,
        onClose: (closed) => this.left(closed),
        onAwaiting: (held) => this.deps.awaiting(held),
        onRoom: (roomy) => this.deps.onRoom(roomy.groupId),
      });
      this.pulls.set(groupId, consumer);
      this.deps.join(consumer);
      this.deps.log.info({ groupId }, 'gateway consumer polling');
    }
    return consumer;
  }

  /** Webhook consumers as the groups file says now (start, reload): new ones join, changed or gone ones close. */
  syncWebhooks(): void {
    const wanted = new Map(this.deps.access().webhooks.map((w) => [w.groupId, w.webhook]));
    for (const [groupId, consumer] of this.webhooks) {
      const webhook = wanted.get(groupId);
      if (!webhook || JSON.stringify(webhook) !== JSON.stringify(consumer.webhook))
        consumer.close('webhook removed or changed in the groups file');
    }
    for (const [groupId, webhook] of wanted) {
      if (this.webhooks.has(groupId)) continue;
      const consumer = new GatewayWebhookConsumer(groupId, webhook, {
        clock: this.deps.clock,
        log: this.deps.log,
        onClose: (closed) => this.left(closed),
        onAwaiting: (held) => this.deps.awaiting(held),
      });
      this.webhooks.set(groupId, consumer);
      this.deps.join(consumer);
      this.deps.log.info({ groupId, url: webhook.url, concurrency: webhook.concurrency }, 'webhook consumer started');
    }
  }

  /** Shutdown: every gateway consumer closes; what they hold fails and is handed back. */
  closeAll(): void {
    for (const consumer of [...this.pulls.values(), ...this.webhooks.values()]) consumer.close('broker stopping');
  }

  private left(consumer: GatewayConsumer): void {
    const map: Map<string, GatewayConsumer> = consumer instanceof GatewayPullConsumer ? this.pulls : this.webhooks;
    if (map.get(consumer.groupId) === consumer) map.delete(consumer.groupId);
    this.deps.leave(consumer);
  }

  private bind(groupId: string, topic: string, messageType: string): void {
    const options = { watermark: 0, persistent: true };
    const binding =
      messageType === '*'
        ? fanoutBinding(groupId, topic, options)
        : directBinding(groupId, topic, messageType, options);
    const made = this.deps.bindings.localOf(groupId);
    if (made.some((b) => b.topic === topic && b.messageType === binding.messageType)) return;
    if (messageType.length > MAX_MESSAGE_TYPE_LENGTH)
      throw new BindingRefused(`type is longer than ${MAX_MESSAGE_TYPE_LENGTH} characters`);
    if (made.length >= MAX_GATEWAY_BINDINGS_PER_GROUP)
      throw new BindingRefused(
        `group ${groupId} has made ${made.length} bindings by polling, the most allowed: poll one of them, or type=*`,
      );
    if (!this.deps.bindings.addLocal(binding)) return;
    this.deps.log.info({ groupId, topic, messageType }, 'gateway binding made');
    const registry = this.deps.registry();
    if (!registry) return;
    // The group's other bindings on the topic (a native consumer's) are written back with it: the
    // registry keeps one node per group and topic (doc/architecture.md §3).
    const others = this.deps.bindings
      .registryBindingsOf(groupId, topic)
      .filter((b) => b.messageType !== binding.messageType || b.bindType !== binding.bindType);
    registry
      .subscribe(groupId, [...others, binding])
      .catch((error: unknown) =>
        this.deps.log.warn(
          { groupId, topic, messageType, err: error },
          'gateway binding not written to the registry (kept on this broker)',
        ),
      );
  }
}
