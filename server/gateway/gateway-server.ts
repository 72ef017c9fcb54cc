// The HTTP gateway (doc/http-gateway.md), off unless --gateway host:port: plain HTTP, or HTTPS with
// the broker's --tls-* files (server/tls.ts). Each request is authenticated as a CONN_META is (HTTP
// Basic groupId:secretKey against the groups file in force, the same refusal text, the same
// brute-force block per address and group), then handed to the first GatewayRoute (route.ts)
// whose method and pattern match. A bad request is answered and never stops the broker.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { AUTH_REFUSED_FEEDBACK } from '../../handler/access';
import type { GroupAccess } from '../groups';
import { listenHttp } from '../http/admin-server';
import type { HandshakeThrottle } from '../limits';
import type { Logger } from '../logger';
import type { TlsFiles } from '../tls';
import { parseBasicAuth } from './basic-auth';
import { GatewayError, sendError, sendJson } from './gateway-error';
import type { GatewayCaller, GatewayRoute } from './route';

export interface GatewayServerDeps {
  log: Logger;
  /** read per request, so a reload's groups apply to the next request */
  access: () => GroupAccess;
  /** the access stage's throttle: refused keys over HTTP and over CONN_META count together */
  handshakes: HandshakeThrottle;
  routes: readonly GatewayRoute[];
  /** GET /v1/openapi.json, served without credentials */
  openApi: () => unknown;
  tls?: TlsFiles;
  /** the broker's --max-connections, for the gateway's sockets on their own */
  maxConnections: number;
}

/** Keep-alive sockets idle this long are closed; above the 60 s idle timeout of common HTTP clients' pools. */
const KEEP_ALIVE_MS = 65_000;
/** Slowloris bounds: a request's headers must have arrived within the first, the whole request within the second. */
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Authenticated Authorization headers remembered per groups file, so a keep-alive stream hashes each key once. */
const AUTH_CACHE_MAX = 1024;

export class GatewayServer {
  private server: Server | null = null;
  private closed: Promise<void> | null = null;
  private boundAddress = '';
  /** per GroupAccess (a reload builds a new one, and so drops what was remembered) */
  private authCache = new WeakMap<GroupAccess, Map<string, string>>();

  constructor(private readonly deps: GatewayServerDeps) {}

  /** host:port actually listened on (port 0 gets a free one); '' before listen() */
  get address(): string {
    return this.boundAddress;
  }

  async listen(address: string): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const { tls } = this.deps;
    const server = tls
      ? createHttpsServer(
          {
            cert: readFileSync(tls.certPath),
            key: readFileSync(tls.keyPath),
            ca: tls.caPath ? readFileSync(tls.caPath) : undefined,
            requestCert: tls.caPath !== undefined,
            rejectUnauthorized: tls.caPath !== undefined,
            minVersion: 'TLSv1.2',
          },
          handler,
        )
      : createHttpServer(handler);
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    // a request (headers and body; a long poll's wait is not part of it) trickled slower is dropped
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.maxConnections = this.deps.maxConnections;
    this.server = server;
    this.boundAddress = await listenHttp(server, address);
    this.deps.log.info({ gateway: this.boundAddress, tls: tls !== undefined }, 'HTTP gateway listening');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      if (path === '/v1/openapi.json' && req.method === 'GET') return sendJson(res, 200, this.deps.openApi());
      const { route, match } = this.route(req.method ?? 'GET', path);
      const caller = this.authenticate(req);
      let params: string[];
      try {
        params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
      } catch {
        throw new GatewayError(400, 'bad_request', 'the path is not valid percent-encoding');
      }
      await route.handle({ req, res, caller, params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) });
    } catch (error) {
      if (error instanceof GatewayError) return sendError(res, error);
      this.deps.log.error({ err: error, method: req.method, path }, 'HTTP gateway request failed');
      sendError(res, new GatewayError(500, 'internal', 'the broker met an unexpected error; the request was not done'));
    }
  }

  private route(method: string, path: string): { route: GatewayRoute; match: RegExpExecArray } {
    let allowed: string[] | undefined;
    for (const route of this.deps.routes) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      if (route.method === method) return { route, match };
      (allowed ??= []).push(route.method);
    }
    if (allowed)
      throw new GatewayError(405, 'method_not_allowed', `${method} not allowed on ${path}`, {
        allow: allowed.join(', '),
      });
    throw new GatewayError(404, 'not_found', `no endpoint ${path} (GET /v1/openapi.json lists them)`);
  }

  /** doc/http-gateway.md "Authentication": the rules of handler/access.ts, per request. */
  private authenticate(req: IncomingMessage): GatewayCaller {
    const socket = req.socket as Socket;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const header = req.headers.authorization;
    const { handshakes, log } = this.deps;
    const access = this.deps.access();
    let known = this.authCache.get(access);
    // a header this groups file accepted before: only the block is looked at (a blocked pair is
    // refused even with the right key, as on the native protocol)
    const cached = header === undefined ? undefined : known?.get(header);
    const credentials = cached === undefined ? parseBasicAuth(header) : null;
    const groupId = cached ?? credentials?.groupId;
    if (groupId === undefined || header === undefined)
      throw new GatewayError(401, 'unauthorized', 'HTTP Basic credentials groupId:secretKey are required', {
        'www-authenticate': 'Basic realm="kiteq", charset="UTF-8"',
      });
    const blocked = handshakes.refusal(socket.remoteAddress, groupId);
    if (blocked !== null)
      throw new GatewayError(429, 'too_many_failures', blocked, { 'retry-after': retryAfter(blocked) });
    if (cached !== undefined) return { groupId, remote };
    const refusal = access.authenticate(groupId, credentials!.secretKey);
    if (refusal !== null) {
      log.warn({ remote, groupId, reason: refusal, transport: 'http' }, 'authentication refused');
      handshakes.refused(socket.remoteAddress, groupId);
      throw new GatewayError(401, 'unauthorized', AUTH_REFUSED_FEEDBACK, {
        'www-authenticate': 'Basic realm="kiteq", charset="UTF-8"',
      });
    }
    if (!known) this.authCache.set(access, (known = new Map()));
    if (known.size >= AUTH_CACHE_MAX) known.clear();
    known.set(header, groupId);
    return { groupId, remote };
  }

  /** Stops accepting connections; requests under way carry on (broker shutdown, doc/operations.md). */
  stopAccepting(): void {
    const server = this.server;
    if (!server || this.closed) return;
    this.closed = new Promise((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
  }

  /** Closes every connection, requests under way included. */
  async close(): Promise<void> {
    this.stopAccepting();
    this.server?.closeAllConnections();
    await this.closed;
  }
}

/** The seconds of "retry in N s" in the throttle's refusal text. */
function retryAfter(refusal: string): string {
  return /retry in (\d+) s/.exec(refusal)?.[1] ?? '1';
}
