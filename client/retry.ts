// The one retrier of the client (KafkaJS src/retry): runs fn(bail, attempt), retries only
// retriable errors, with jittered exponential backoff; `bail(error)` stops at once.
import { KiteQError } from './errors';

/** A jittered exponential back-off: attempt n waits min(maxDelayMs, initialDelayMs * factor^n), ± jitter. */
export interface RetryOptions {
  /** retries after the first try */
  retries: number;
  /** the first delay */
  initialDelayMs: number;
  /** the longest delay */
  maxDelayMs: number;
  /** growth of the delay per attempt */
  factor: number;
  /** 0..1: the share of each delay that is random */
  jitter: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({
  retries: 5,
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.3,
});

export function backoffDelayMs(attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  return Math.round(base * (1 - options.jitter + options.jitter * 2 * random()));
}

class Bail {
  constructor(readonly error: unknown) {}
}

export function isRetriable(error: unknown): boolean {
  return error instanceof KiteQError && error.retriable;
}

export async function retry<T>(
  fn: (bail: (error: unknown) => never, attempt: number) => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  const bail = (error: unknown): never => {
    throw new Bail(error);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(bail, attempt);
    } catch (error) {
      if (error instanceof Bail) throw error.error;
      if (!isRetriable(error) || attempt >= options.retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, options)));
    }
  }
}
