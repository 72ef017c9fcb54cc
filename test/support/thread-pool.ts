// Holds every thread of libuv's pool (asynchronous fs calls, dns.lookup, crypto work) until
// released, as a loaded machine can: each thread blocks opening a FIFO for reading, which costs no
// CPU. Work queued on the pool meanwhile (an fs.watchFile baseline stat, say) runs only after
// release, so a test can put a write before it for certain.
import { execFileSync } from 'node:child_process';
import { close, closeSync, mkdtempSync, open, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HeldPool {
  /** lets the pool go and waits until every held thread is back; safe to call twice */
  release(): Promise<void>;
}

export function holdThreadPool(): HeldPool {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const dir = mkdtempSync(join(tmpdir(), 'kiteq-pool-'));
  const fifos = Array.from({ length: threads }, (_, i) => join(dir, `fifo-${i}`));
  execFileSync('mkfifo', fifos);
  // An open for reading blocks until the FIFO has a writer: one pool thread each, queued in order.
  const held = fifos.map(
    (path) =>
      new Promise<number>((resolve, reject) => open(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd)))),
  );
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        // Linux opens a FIFO read-write without blocking, and that open is the writer the readers wait for.
        const writers = fifos.map((path) => openSync(path, 'r+'));
        try {
          for (const fd of await Promise.all(held)) close(fd, () => undefined);
        } finally {
          for (const fd of writers) closeSync(fd);
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return released;
    },
  };
}
