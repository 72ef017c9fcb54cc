/** A peer broke the wire protocol (doc/architecture.md §2): the connection that sent it is closed, nothing else. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    /** the rule broken, for the log line: 'header', 'body-size', 'decode', 'order' */
    readonly rule: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
