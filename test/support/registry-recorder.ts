// Records what a registry listener (watchBindings, watchBrokers…) reports, so a test can await
// the report it expects instead of sleeping.
/** Records every report of a registry listener; next() awaits a report that satisfies a predicate. */
export class ChangeRecorder<T> {
  readonly reports: T[] = [];
  private waiters: { accept: (value: T) => boolean; resolve: (value: T) => void }[] = [];

  readonly listener = (value: T): void => {
    this.reports.push(value);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.accept(value)) return true;
      waiter.resolve(value);
      return false;
    });
  };

  get latest(): T | undefined {
    return this.reports[this.reports.length - 1];
  }

  /** The latest report if it satisfies `accept`, else the next one that does (rejects after timeoutMs). */
  next(what: string, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const latest = this.latest;
    if (latest !== undefined && accept(latest)) return Promise.resolve(latest);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`no report with ${what} within ${timeoutMs} ms; last: ${JSON.stringify(this.latest)}`));
      }, timeoutMs);
      const done = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.waiters.push({ accept, resolve: done });
    });
  }
}
