// The admin HTTP server (doc/architecture.md §10), off unless --http host:port. Read-only endpoints are open
// to whoever can reach the bind address (127.0.0.1 by default); POST endpoints need the bearer
// token of --http-token and are refused (403) when none is configured, and so is DELETE. `/` and
// `/console/*` serve the web console (doc/console.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { AdminPort } from './admin-port';
import { ConsoleAssets } from './console-assets';
import { countDeadLetters, deleteDeadLetters, listDeadLetters, redriveDeadLetters } from './dlq';
import { groupsView } from './groups';
import { healthz } from './health';
import { kiteqBinds, kiteqStat } from './kiteq-stat';
import { messageBody, messageView } from './messages';
import { history, overview } from './overview';
import { cancelScheduled, listScheduled } from './scheduled';
import { HttpError, readJsonBody, requireToken, sendJson, sendText } from './respond';
import { listTransactions } from './transactions';

export interface AdminServerOptions {
  port: AdminPort;
  metrics: Registry;
  log: Logger;
}

/** "host:port" or a bare port (then 127.0.0.1). */
export function parseHttpAddress(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = i < 0 ? '127.0.0.1' : value.slice(0, i) || '127.0.0.1';
  return { host, port: Number(i < 0 ? value : value.slice(i + 1)) };
}

/** Listens on "host:port" (or a bare port); resolves with the host:port actually bound (port 0 gets a free one). */
export function listenHttp(server: Server, address: string): Promise<string> {
  const { host, port } = parseHttpAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? `${host}:${bound.port}` : address);
    });
  });
}

export class AdminServer {
  private server: Server | null = null;
  private readonly assets = new ConsoleAssets();
  private boundAddress = '';

  constructor(private readonly options: AdminServerOptions) {}

  /** host:port actually listened on (port 0 in config gets a free one). */
  get address(): string {
    return this.boundAddress;
  }

  async listen(address: string): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    this.boundAddress = await listenHttp(server, address);
    this.options.log.info({ http: this.boundAddress }, 'admin HTTP listening');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    try {
      await this.route(req.method ?? 'GET', url, req, res);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      this.options.log.error({ err: error, path: url.pathname }, 'admin HTTP request failed');
      sendJson(res, 500, { error: (error as Error).message });
    }
  }

  private async route(method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { port, metrics } = this.options;
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if ((method === 'GET' || method === 'HEAD') && this.assets.serve(path, res, method === 'HEAD')) return;
    if (method === 'GET') {
      if (path === '/overview') return sendJson(res, 200, await overview(port));
      if (path === '/history') return sendJson(res, 200, history(port, url.searchParams));
      if (path === '/groups') return sendJson(res, 200, groupsView(port));
      if (path === '/transactions') return sendJson(res, 200, await listTransactions(port, url.searchParams));
      if (path === '/dlq/count') return sendJson(res, 200, await countDeadLetters(port, url.searchParams));
      if (path.startsWith('/messages/') && path.endsWith('/body')) {
        requireToken(req, port.httpToken());
        const id = decodeURIComponent(path.slice('/messages/'.length, -'/body'.length));
        return sendJson(res, 200, await messageBody(port, id));
      }
      if (path === '/stat') return sendJson(res, 200, kiteqStat(port));
      if (path === '/binds') return sendJson(res, 200, kiteqBinds(port));
      if (path === '/metrics') return sendText(res, 200, metrics.contentType, await metrics.metrics());
      if (path === '/healthz') {
        const { status, body } = await healthz(port);
        return sendJson(res, status, body);
      }
      if (path.startsWith('/messages/'))
        return sendJson(res, 200, await messageView(port, decodeURIComponent(path.slice('/messages/'.length))));
      if (path === '/dlq') return sendJson(res, 200, await listDeadLetters(port, url.searchParams));
      if (path === '/scheduled') return sendJson(res, 200, await listScheduled(port, url.searchParams));
    }
    if (method === 'DELETE' && path.startsWith('/messages/')) {
      requireToken(req, port.httpToken());
      return sendJson(res, 200, await cancelScheduled(port, decodeURIComponent(path.slice('/messages/'.length))));
    }
    if (method === 'POST') {
      if (path === '/dlq/redrive') {
        requireToken(req, port.httpToken());
        const result = await redriveDeadLetters(port, await readJsonBody(req));
        this.options.log.info(
          { redriven: result.redriven.length, missing: result.missing.length },
          'dead letters re-driven (admin)',
        );
        return sendJson(res, 200, result);
      }
      if (path === '/dlq/delete') {
        requireToken(req, port.httpToken());
        const result = await deleteDeadLetters(port, await readJsonBody(req));
        this.options.log.info(
          { deleted: result.deleted.length, missing: result.missing.length },
          'dead letters deleted (admin)',
        );
        return sendJson(res, 200, result);
      }
      if (path === '/reload') {
        requireToken(req, port.httpToken());
        if (port.reload === null) throw new HttpError(501, 'this broker has no config source to re-read');
        return sendJson(res, 200, await port.reload());
      }
    }
    const known = [
      '/stat',
      '/binds',
      '/metrics',
      '/healthz',
      '/dlq',
      '/dlq/count',
      '/dlq/redrive',
      '/dlq/delete',
      '/reload',
      '/scheduled',
      '/overview',
      '/history',
      '/groups',
      '/transactions',
    ];
    if (known.includes(path) || path.startsWith('/messages/'))
      throw new HttpError(405, `${method} not allowed on ${path}`);
    throw new HttpError(404, `no endpoint ${path}`);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
