// A kiteq-ts broker as a child process of the bench (`kiteq-bench scale` starts a fresh one for
// every point): its own port, registry, groups file and store, started with the flags of
// doc/performance.md and stopped with SIGTERM (SIGKILL if it lingers).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { nowMs } from './peers/payload';
import { peakRssMb } from './process-cpu';

/** dist/server/cli.js, relative to this compiled file (dist/bench/). */
const SERVER_CLI = resolve(__dirname, '..', 'server', 'cli.js');

export interface BrokerChildOptions {
  port: number;
  registryPath: string;
  groupsPath: string;
  topics: string[];
  /** memory:// or file:///dir?fsync=batch */
  store: string;
  /** more kiteq-server flags */
  args?: string[];
  readyTimeoutMs?: number;
}

export interface BrokerChild {
  pid: number;
  address: string;
  /** spawn → its `ready` line: process start, store recovery, listening */
  startMs: number;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function startBrokerChild(options: BrokerChildOptions): Promise<BrokerChild> {
  const address = `127.0.0.1:${options.port}`;
  const started = nowMs();
  const child = spawn(
    process.execPath,
    [
      '--initial-old-space-size=64',
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: profile every point's broker (doc/scaling.md)
      ...(process.env.KITEQ_BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
      SERVER_CLI,
      '--bind',
      address,
      '--registry',
      `file://${options.registryPath}`,
      '--groups',
      options.groupsPath,
      '--topics',
      options.topics.join(','),
      '--store',
      options.store,
      '--log-level',
      'warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  await new Promise<void>((done, fail) => {
    let out = '';
    const timer = setTimeout(() => {
      // what it had grown to by then is a finding too (a large backlog): read before it is killed
      const peak = peakRssMb(child.pid!);
      child.kill('SIGKILL');
      fail(new Error(`kiteq-server not ready after ${timeoutMs} ms (peak RSS ${peak ?? '?'} MB so far): ${log}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (!out.includes('"event":"ready"')) {
        keep(chunk);
        return;
      }
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.on('data', keep);
      done();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`kiteq-server exited with ${code} before ready: ${log}`));
    });
  });
  const startMs = Math.round(nowMs() - started);
  return {
    pid: child.pid!,
    address,
    startMs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

const children = new Set<ChildProcess>();
const killChildren = (): void => {
  for (const child of children) child.kill('SIGKILL');
};
process.once('exit', killChildren);
// interrupted (Ctrl-C, kill): no broker of a sweep is left behind
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
