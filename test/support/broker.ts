// Starts kiteq-ts brokers for tests: in-process (a real Broker object on real sockets) or as a
// child process running the compiled CLI (for SIGKILL crash tests).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Binding } from '../../binding/binding';
import { Broker, type BrokerOptions } from '../../server/broker';
import { type BrokerConfig, DEFAULT_CONFIG } from '../../server/config';
import { silentLogger } from '../../server/logger';
import { freePort } from './ports';
import { writeRegistryFile } from './registry-file';

/** dist/server/cli.js, found relative to this compiled file. */
export const CLI_PATH = resolve(__dirname, '..', '..', 'server', 'cli.js');

export interface TestBroker {
  broker: Broker;
  address: string;
  registryUri: string;
  dir: string;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'kiteq-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A broker in this process on a free port, with a file registry holding it and `bindings`. */
export async function startBroker(options: {
  bindings: Binding[];
  topics?: string[];
  config?: Partial<BrokerConfig>;
  brokerOptions?: BrokerOptions;
}): Promise<TestBroker> {
  const dir = tempDir();
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const topics = options.topics ?? ['trade'];
  const registryPath = writeRegistryFile(dir, [{ address, topics }], options.bindings);
  const registryUri = `file://${registryPath}`;
  const broker = new Broker(
    { ...DEFAULT_CONFIG, bind: address, registry: registryUri, store: 'memory://', topics, ...options.config },
    { log: silentLogger(), ...options.brokerOptions },
  );
  await broker.start();
  return {
    broker,
    address,
    registryUri,
    dir,
    async stop() {
      await broker.stop(500);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BrokerProcess {
  child: ChildProcess;
  address: string;
  /** everything it wrote to stderr (its log) */
  readonly log: string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  /** starts it again with the same arguments */
  restart(): Promise<BrokerProcess>;
}

/** The kiteq-server flags most child-process tests share: one broker, no groups file (any group admitted). */
export function serverArgs(o: { bind: string; registry: string; store: string; topics: string }): string[] {
  return ['--bind', o.bind, '--registry', o.registry, '--store', o.store, '--topics', o.topics, '--groups', 'none'];
}

/**
 * Runs the broker as `kiteq-server` and `npm start` do (`node --initial-old-space-size=64
 * dist/server/cli.js args...`, server/cli.ts) and resolves once it prints its ready line.
 * `cli` is another copy of server/cli.js (an installed package's).
 */
export async function startBrokerProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
  cli = CLI_PATH,
): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--initial-old-space-size=64', cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > 2_000_000) log = log.slice(-1_000_000);
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const address = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(
      () => rej(new Error(`kiteq-server not ready after ${timeoutMs} ms; log:\n${log}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'));
      if (line) {
        clearTimeout(timer);
        res(JSON.parse(line).address);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`kiteq-server exited with ${code} before ready; log:\n${log}`));
    });
  });
  const handle: BrokerProcess = {
    child,
    address,
    get log() {
      return log;
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    restart: () => startBrokerProcess(args, env, timeoutMs, cli),
  };
  processes.add(handle);
  child.once('exit', () => processes.delete(handle));
  return handle;
}

const processes = new Set<BrokerProcess>();
process.once('exit', () => {
  for (const p of processes) p.child.kill('SIGKILL');
});

export { rmSync };
