// The HTTP gateway's route contract (doc/http-gateway.md): the gateway server authenticates the
// caller (HTTP Basic groupId:secretKey, checked as CONN_META is) and hands the request to the first
// route whose method and pattern match. Publish/transaction routes and consume routes live in
// their own modules and meet only here.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An authenticated gateway caller: the group its Basic credentials named. */
export interface GatewayCaller {
  readonly groupId: string;
  /** remote host:port, for log lines */
  readonly remote: string;
}

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly caller: GatewayCaller;
  /** the pattern's capture groups, URL-decoded, in order */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

export interface GatewayRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** matched against the path without the query string, anchored at both ends */
  readonly pattern: RegExp;
  handle(ctx: RouteContext): Promise<void>;
}
