// Awaitable test conditions (like nats.js' Lock): no sleeps as synchronisation.

export interface Countdown {
  tick(n?: number): void;
  readonly count: number;
  readonly done: Promise<void>;
}

/** Resolves after n ticks; rejects after timeoutMs naming how many arrived. */
export function countdown(n: number, timeoutMs: number, what = 'events'): Countdown {
  let count = 0;
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(
    () => reject(new Error(`timed out after ${timeoutMs} ms: ${count} of ${n} ${what}`)),
    timeoutMs,
  );
  if (n <= 0) {
    clearTimeout(timer);
    resolve();
  }
  return {
    tick(k = 1) {
      count += k;
      if (count >= n) {
        clearTimeout(timer);
        resolve();
      }
    },
    get count() {
      return count;
    },
    done,
  };
}

/** Polls an external condition (a znode, a row, a file) until it holds; rejects after timeoutMs. */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves when emitter emits `event` (first argument), rejects after timeoutMs. */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`)),
      timeoutMs,
    );
    emitter.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
