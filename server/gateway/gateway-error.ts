// The gateway's error answers (doc/http-gateway.md "Errors"): every refusal is JSON
// `{error, reason}`, `error` a short code a program can switch on, `reason` a sentence a person can
// act on (for a publish, the MessageStoreAck feedback text of the native protocol).
import type { ServerResponse } from 'node:http';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'GatewayError';
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJsonText(res, status, JSON.stringify(value), headers);
}

/** `body` is JSON text already. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendError(res: ServerResponse, error: GatewayError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, { error: error.code, reason: error.reason }, error.headers);
}
