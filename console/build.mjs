// Bundles the web console (doc/console.md) into dist/console with esbuild: one script and one
// stylesheet named by content hash, and index.html naming them (no inline script or style: the
// admin server's Content-Security-Policy allows none). Prints the sizes.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import process from 'node:process';
import { gzipSync } from 'node:zlib';

const here = import.meta.dirname;
const out = join(here, '..', 'dist', 'console');
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: join(here, 'src', 'main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = files.find((f) => f.endsWith('.js'));
const style = files.find((f) => f.endsWith('.css'));
const html = readFileSync(join(here, 'index.html'), 'utf8').replace('%SCRIPT%', script).replace('%STYLE%', style);
writeFileSync(join(out, 'index.html'), html);
const sizes = files.map((f) => {
  const body = readFileSync(join(out, f));
  return `${f} ${(body.length / 1024).toFixed(1)} KiB (gzip ${(gzipSync(body).length / 1024).toFixed(1)} KiB)`;
});
process.stderr.write(`console: ${sizes.join(', ')}\n`);
