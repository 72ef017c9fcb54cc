// Store failures as typed errors (doc/architecture.md §8: never a bare false). `retriable` tells the
// producer-facing feedback whether sending the same message again may succeed.
export class StoreError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The store is at capacity (memory limit, disk full): retry after deliveries free space. */
export class StoreFullError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = 'StoreFullError';
  }
}

/** I/O or connection failure: nothing was stored; retry later. */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A duplicate messageId on save (a producer retrying after a lost ack): the first copy stands. */
export class DuplicateMessageError extends StoreError {
  constructor(messageId: string) {
    super(`message ${messageId} is already stored`, false);
    this.name = 'DuplicateMessageError';
  }
}
