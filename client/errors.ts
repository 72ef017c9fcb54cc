// The client's error classes (KafkaJS src/errors.js): each says whether retrying may help, and
// keeps what caused it in `cause`.
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

/**
 * The broker answered status false; `reason` is its feedback (protocol/reasons.ts). A refused
 * CONN_META (wrong secret key, unknown group) is one, not retriable, naming that `broker`.
 */
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
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = 'ConnectionClosedError';
  }
}

/**
 * A broker sent bytes that break the wire protocol (a bad header, an undecodable body). That
 * connection is closed and reconnected; a request on it may be retried on another.
 */
export class ProtocolViolationError extends KiteQError {
  constructor(
    readonly broker: string,
    cause: unknown,
  ) {
    super(`protocol error from ${broker}: ${(cause as Error)?.message ?? String(cause)}`, true, { cause });
    this.name = 'ProtocolViolationError';
  }
}

/** The client is closing or closed: nothing new is sent. */
export class ClientClosedError extends KiteQError {
  constructor(what: string) {
    super(`${what}: the client is closed`, false);
    this.name = 'ClientClosedError';
  }
}
