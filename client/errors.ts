// The client's error classes (KafkaJS src/errors.js): each says whether retrying may help.
export class KiteQError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KiteQError';
  }
}

/** The broker answered status false; `reason` is its feedback (protocol/reasons.ts). */
export class BrokerRejectedError extends KiteQError {
  constructor(
    readonly reason: string,
    retriable: boolean,
    readonly broker?: string,
  ) {
    super(`broker${broker ? ` ${broker}` : ''} rejected: ${reason}`, retriable);
    this.name = 'BrokerRejectedError';
  }
}

/** No reply within the request timeout. The broker may still have acted on the request. */
export class TimeoutError extends KiteQError {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no reply within ${timeoutMs} ms`, true);
    this.name = 'TimeoutError';
  }
}

/** The connection closed before the reply came (or there was no connection to send on). */
export class ConnectionClosedError extends KiteQError {
  constructor(message: string) {
    super(message, true);
    this.name = 'ConnectionClosedError';
  }
}
