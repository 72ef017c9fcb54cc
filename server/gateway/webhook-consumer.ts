// A group delivered to by HTTP POST (doc/http-gateway.md "Webhook push"): a consumer of the group
// like a connection, in the Sessions registry while the broker runs. Each delivery is one POST of
// the message as JSON; 2xx acks, any other status, a connection error or the timeout is a failed
// delivery (retried on the usual schedule). At most `concurrency` POSTs in flight; a bounded queue
// behind them, whose waits count against the delivery timeout; past it a delivery fails at once,
// so a slow or dead webhook holds nothing of other groups or of the broker.
//
// node's global fetch (undici): a keep-alive connection pool per origin out of the box, so one
// group's dead endpoint occupies only its own sockets; AbortSignal for the per-request timeout; no
// dependency to add (doc/http-gateway.md "Webhook push" has the measurements).
import type { Delivery, PendingReply, SessionPort } from '../../handler/session-port';
import type { WebhookConfig } from './webhook-config';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { RegisteredSession } from '../sessions';
import { gatewayMessage } from './message-json';

/** deliveries waiting for a free POST slot, per slot: bounded so a dead webhook cannot pile them up */
export const WEBHOOK_QUEUE_PER_SLOT = 64;

interface Waiting {
  delivery: Delivery;
  reply: PendingReply;
  atMs: number;
}

export interface WebhookConsumerDeps {
  clock: Clock;
  log: Logger;
  onClose: (consumer: GatewayWebhookConsumer) => void;
  /** a delivery waits for a slot: the broker's sweep looks at this consumer until none does */
  onAwaiting: (consumer: GatewayWebhookConsumer) => void;
}

/** Ids above any a TCP connection or a pull consumer reaches. */
let nextId = 2_100_000_000;

export class GatewayWebhookConsumer implements SessionPort, RegisteredSession {
  /** not a connection: answers no tx check-back (server/delivery-engine.ts producersOf) */
  readonly gateway = true;
  readonly id = nextId++;
  readonly authenticated = true;
  readonly warmingupSec = 0;
  readonly authAtMs: number;
  readonly connectedAtMs: number;
  readonly inFlightPublishes = 0;
  readonly remote: string;
  closed = false;
  private inFlight = 0;
  private readonly queue: Waiting[] = [];
  private readonly aborts = new Set<AbortController>();
  /** the last POST failed: the next success is logged once, as the first failure was */
  private failing = false;

  constructor(
    readonly groupId: string,
    readonly webhook: WebhookConfig,
    private readonly deps: WebhookConsumerDeps,
  ) {
    this.authAtMs = this.connectedAtMs = deps.clock.nowMs();
    this.remote = webhook.url;
  }

  /** never idle: it is there as long as the groups file names it */
  get lastSeenMs(): number {
    return this.deps.clock.nowMs();
  }

  /** every slot busy: a native consumer of the group, if any, goes first */
  get passedOver(): boolean {
    return this.inFlight >= this.webhook.concurrency;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.queue.length;
  }

  deliver(_cmdType: number, delivery: Delivery, reply: PendingReply): void {
    if (this.closed) return reply.resolve(false, 'webhook consumer closed');
    if (this.inFlight < this.webhook.concurrency) return this.post(delivery, reply);
    if (this.queue.length >= this.webhook.concurrency * WEBHOOK_QUEUE_PER_SLOT)
      return reply.resolve(false, 'webhook saturated');
    this.queue.push({ delivery, reply, atMs: this.deps.clock.nowMs() });
    if (this.queue.length === 1) this.deps.onAwaiting(this);
  }

  /** deliveries waiting for a slot (in-flight POSTs end by their own timeout) */
  get pendingCount(): number {
    return this.queue.length;
  }

  /** The broker's sweep: deliveries still waiting for a slot after the delivery timeout fail. */
  expirePending(nowMs: number, timeoutMs: number): number {
    let expired = 0;
    while (this.queue.length > 0 && nowMs - this.queue[0].atMs >= timeoutMs) {
      this.queue.shift()!.reply.resolve(false, 'webhook busy for the delivery timeout');
      expired++;
    }
    return expired;
  }

  sendStoreAck(): void {}

  checkBack(_ack: unknown, pending: PendingReply): void {
    pending.resolve(false, 'a webhook answers no check-back');
  }

  failed(stage: string, error: unknown): void {
    this.deps.log.error({ groupId: this.groupId, stage, err: error }, 'unexpected error in a stage: webhook consumer');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.log.info({ groupId: this.groupId, url: this.webhook.url, reason }, 'webhook consumer closed');
    this.deps.onClose(this);
    for (const waiting of this.queue.splice(0)) waiting.reply.resolve(false, 'webhook consumer closed');
    for (const abort of this.aborts) abort.abort(new Error('webhook consumer closed'));
  }

  destroy(): void {
    this.close('broker stopping');
  }

  private post(delivery: Delivery, reply: PendingReply): void {
    this.inFlight++;
    const { message, attempt } = delivery;
    const { header } = message;
    const abort = new AbortController();
    this.aborts.add(abort);
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(this.webhook.timeoutMs)]);
    fetch(this.webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'kiteq-message-id': header.messageId,
        'kiteq-topic': header.topic,
        'kiteq-message-type': header.messageType,
        'kiteq-attempt': String(attempt),
      },
      body: JSON.stringify(gatewayMessage(message, attempt)),
      signal,
    })
      .then(async (res) => {
        // The answer's body is not wanted; cancelling it frees the connection for the pool.
        await res.body?.cancel().catch(() => undefined);
        return res.status >= 200 && res.status < 300 ? '' : `webhook answered ${res.status}`;
      })
      .catch((error: unknown) => webhookError(error, this.webhook.timeoutMs))
      .then((failure) => {
        this.aborts.delete(abort);
        this.inFlight--;
        this.note(failure);
        reply.resolve(failure === '', failure || undefined);
        this.pump();
      });
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.webhook.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.post(next.delivery, next.reply);
    }
  }

  /** One warn line when a webhook starts failing and one info line when it answers again: none per message. */
  private note(failure: string): void {
    if (failure !== '' && !this.failing && !this.closed)
      this.deps.log.warn({ groupId: this.groupId, url: this.webhook.url, reason: failure }, 'webhook failing');
    else if (failure === '' && this.failing)
      this.deps.log.info({ groupId: this.groupId, url: this.webhook.url }, 'webhook answering again');
    this.failing = failure !== '';
  }
}

function webhookError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `webhook timed out after ${timeoutMs} ms`;
  const cause = err.cause?.code ?? err.cause?.message;
  return `webhook unreachable: ${err.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}
