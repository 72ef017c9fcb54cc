// A delayed retry that fell due on the retry heap (server/retry-scheduler.ts) is read back from the
// store and handed to deliver-prepare (doc/architecture.md §6). A failed read is left to the
// recovery scan, which pages every due message anyway.
import type { DeliveryRequest } from '../handler/events';
import type { MessageStore } from '../store/contract';
import type { Logger } from './logger';

export interface DueRetryDeps {
  store: Pick<MessageStore, 'get'>;
  log: Logger;
  onRetried: (topic: string) => void;
  toDeliverPrepare: (request: DeliveryRequest) => unknown;
}

export class DueRetries {
  private reading = 0;

  constructor(private readonly deps: DueRetryDeps) {}

  /** reads in progress (the retry heap's room counts them as in flight) */
  get reads(): number {
    return this.reading;
  }

  async redeliver(messageId: string): Promise<void> {
    let message;
    this.reading++;
    try {
      message = await this.deps.store.get(messageId);
    } catch (error) {
      this.deps.log.error(
        { err: error, messageId },
        'store read failed for a due retry; the recovery scan will pick it up',
      );
      return;
    } finally {
      this.reading--;
    }
    if (!message || !message.header.commit) return;
    if (message.deliverCount > 0) this.deps.onRetried(message.header.topic); // 0: a scheduled first attempt
    this.deps.toDeliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
  }
}
