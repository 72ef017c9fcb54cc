// The web console's files (doc/console.md): dist/console, built by build.sh with esbuild. `/` is its
// index.html (never cached, it names the current bundle); `/console/<name>` are the bundle's files,
// named by content hash and cached for a year. Only names listed in the directory are served, so no
// path can leave it. Every answer carries a Content-Security-Policy without inline scripts or styles.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { sendJson } from './respond';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  body: Buffer;
  type: string;
}

export class ConsoleAssets {
  private files: Map<string, Asset> | null = null;

  constructor(private readonly dir = join(__dirname, '..', '..', 'console')) {}

  /** Read once, at the first request: a few hundred KB. */
  private load(): Map<string, Asset> {
    if (this.files) return this.files;
    const files = new Map<string, Asset>();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      // not built: every request answers 404 below
    }
    for (const name of names) {
      const type = TYPES[extname(name)];
      if (type) files.set(name, { body: readFileSync(join(this.dir, name)), type });
    }
    return (this.files = files);
  }

  /** Answers `/` and `/console/<name>`; false when the path is neither. */
  serve(path: string, res: ServerResponse, head: boolean): boolean {
    let name: string;
    if (path === '/' || path === '/index.html') name = 'index.html';
    else if (path.startsWith('/console/')) name = path.slice('/console/'.length);
    else return false;
    const asset = this.load().get(name);
    if (!asset) {
      const missing = name === 'index.html' ? 'the console is not built (bash build.sh)' : `no console file ${name}`;
      sendJson(res, 404, { error: missing });
      return true;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    res.end(head ? undefined : asset.body);
    return true;
  }
}
