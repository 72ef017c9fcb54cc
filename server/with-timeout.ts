// A promise bounded in time: a broker cut off from its registry must still be able to stop.

/** Rejects after `ms` unless `promise` settled first; resolves undefined for no promise. */
export function withTimeout<T>(promise: Promise<T> | undefined, ms: number, what: string): Promise<T | undefined> {
  if (!promise) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}
