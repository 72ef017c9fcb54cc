// `kiteq-bench cluster` (doc/scaling.md "Several brokers"): N brokers on one ZooKeeper registry and
// one MySQL store, started here as child processes; the roundtrip workload runs against all of them
// (producers spread over the brokers the registry lists, the consumer receives from each), one broker
// is SIGKILLed mid-run, a survivor takes over its stored messages (doc/architecture.md §9), and the
// run counts what was acked and never received.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { runKiteqRoundtrip, type KiteqRoundtripOptions } from './kiteq-roundtrip';
import { cpuBetween, type CpuSample, type CpuUsage, peakRssMb, sampleProcess } from './process-cpu';
import type { RoundtripResult } from './result';

const CLI = resolve(__dirname, '..', 'server', 'cli.js');

export interface ClusterOptions extends Omit<KiteqRoundtripOptions, 'brokerPid' | 'onStarted'> {
  brokers: number;
  /** mysql://… shared by every broker */
  store: string;
  /** SIGKILL one broker this many seconds into the publish phase; never when absent */
  killAtSec?: number;
  /** zk:// + mysql://: how long a broker must be gone before a survivor takes its messages */
  takeoverGraceMs: number;
  /** processes whose CPU per message the result reports too (the MySQL server, ZooKeeper) */
  watchPids?: Record<string, number>;
  /** a line for each event (brokers ready, kill, takeover) */
  log?: (line: string) => void;
}

export interface BrokerFigures {
  address: string;
  pid: number;
  killed: boolean;
  /** store-acked publishes and deliveries written, from its /stat (at the kill for the killed one) */
  stored: number;
  delivered: number;
  cpu: CpuUsage;
  peakRssMb?: number;
}

export interface ClusterResult extends RoundtripResult {
  cluster: {
    brokers: BrokerFigures[];
    /** CPU of the processes of watchPids over the run, per acked message */
    watched: Record<string, CpuUsage>;
    killedAtSec?: number;
    /** the survivor's "takeover: adopted" log line: who, how many rows, how long after the kill */
    takeover?: { by: string; rows: number; msAfterKill: number };
  };
}

interface BrokerChild {
  address: string;
  http: string;
  child: ChildProcess;
  log: string;
  killed: boolean;
  cpuAtStart?: CpuSample;
  cpuAtEnd?: CpuSample;
  rssAtEnd?: number;
  stat?: { stored: number; delivered: number };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

async function startBroker(options: ClusterOptions, onTakeover: (b: BrokerChild, rows: number) => void) {
  const address = `127.0.0.1:${await freePort()}`;
  const http = `127.0.0.1:${await freePort()}`;
  const args = [
    ...['--bind', address, '--http', http, '--registry', options.registry, '--store', options.store],
    ...['--topics', options.topic, '--groups', 'none', '--log-level', 'warn'],
    ...['--takeover-grace-ms', String(options.takeoverGraceMs), '--recover-interval-ms', '1000'],
  ];
  const child = spawn(process.execPath, ['--initial-old-space-size=64', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const broker: BrokerChild = { address, http, child, log: '', killed: false };
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    broker.log = (broker.log + text).slice(-200_000);
    const adopted = /"rows":(\d+)[^\n]*takeover: adopted/.exec(text);
    if (adopted) onTakeover(broker, Number(adopted[1]));
  });
  await new Promise<void>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`broker ${address} not ready in 30 s:\n${broker.log}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"event":"ready"')) {
        clearTimeout(timer);
        res();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`broker ${address} exited with ${code} before ready:\n${broker.log}`));
    });
  });
  return broker;
}

async function statOf(broker: BrokerChild): Promise<{ stored: number; delivered: number }> {
  const stat = (await (await fetch(`http://${broker.http}/stat`)).json()) as {
    kiteq_ts: { totals: { stored: number; delivered: number } };
  };
  return { stored: stat.kiteq_ts.totals.stored, delivered: stat.kiteq_ts.totals.delivered };
}

function stopped(broker: BrokerChild): Promise<void> {
  if (broker.child.exitCode !== null || broker.child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => broker.child.once('exit', () => res()));
}

export async function runCluster(options: ClusterOptions): Promise<ClusterResult> {
  const log = options.log ?? (() => undefined);
  const brokers: BrokerChild[] = [];
  let killedAtMs = 0;
  let takeover: ClusterResult['cluster']['takeover'];
  const onTakeover = (by: BrokerChild, rows: number) => {
    takeover = { by: by.address, rows, msAfterKill: killedAtMs > 0 ? Date.now() - killedAtMs : 0 };
    log(`takeover: ${by.address} adopted ${rows} rows, ${takeover.msAfterKill} ms after the kill`);
  };
  const watched = Object.entries(options.watchPids ?? {});
  // the bench killed or failing must not leave brokers running
  const orphans = () => brokers.forEach((b) => b.child.kill('SIGKILL'));
  process.once('exit', orphans);
  try {
    for (let i = 0; i < options.brokers; i++) brokers.push(await startBroker(options, onTakeover));
    log(`${brokers.length} brokers ready: ${brokers.map((b) => b.address).join(', ')}`);
    const victim = brokers[brokers.length - 1]!;
    const kill = async () => {
      // an overloaded broker may not answer: it is killed all the same, its counts then unknown
      victim.stat = await statOf(victim).catch(() => ({ stored: NaN, delivered: NaN }));
      victim.cpuAtEnd = sampleProcess(victim.child.pid!);
      victim.rssAtEnd = peakRssMb(victim.child.pid!);
      victim.killed = true;
      victim.child.kill('SIGKILL');
      killedAtMs = Date.now();
      log(`SIGKILLed ${victim.address} (it had stored ${victim.stat.stored}, delivered ${victim.stat.delivered})`);
    };
    let watchedAtStart: CpuSample[] = [];
    const result = await runKiteqRoundtrip({
      ...options,
      // every client sees every broker before the figures start
      onStarted: async (clients) => {
        const deadline = Date.now() + 30_000;
        while (clients.some((c) => c.readyConnections < brokers.length)) {
          if (Date.now() > deadline)
            throw new Error(`clients did not connect to all ${brokers.length} brokers within 30 s`);
          await new Promise((res) => setTimeout(res, 50));
        }
        for (const b of brokers) b.cpuAtStart = sampleProcess(b.child.pid!);
        watchedAtStart = watched.map(([, pid]) => sampleProcess(pid));
      },
      onProgress: (p) => {
        options.onProgress?.(p);
        if (options.killAtSec !== undefined && p.second === options.killAtSec && !victim.killed) void kill();
      },
    });
    for (const b of brokers.filter((x) => !x.killed)) {
      b.stat = await statOf(b);
      b.cpuAtEnd = sampleProcess(b.child.pid!);
      b.rssAtEnd = peakRssMb(b.child.pid!);
    }
    const figures: BrokerFigures[] = brokers.map((b) => ({
      address: b.address,
      pid: b.child.pid!,
      killed: b.killed,
      stored: b.stat!.stored,
      delivered: b.stat!.delivered,
      cpu: cpuBetween(b.cpuAtStart!, b.cpuAtEnd!, b.stat!.stored),
      ...(b.rssAtEnd === undefined ? {} : { peakRssMb: b.rssAtEnd }),
    }));
    return {
      ...result,
      cluster: {
        brokers: figures,
        watched: Object.fromEntries(
          watched.map(([name, pid], i) => [name, cpuBetween(watchedAtStart[i]!, sampleProcess(pid), result.acked)]),
        ),
        ...(options.killAtSec === undefined ? {} : { killedAtSec: options.killAtSec }),
        ...(takeover ? { takeover } : {}),
      },
    };
  } finally {
    for (const b of brokers) if (!b.killed) b.child.kill('SIGTERM');
    await Promise.all(brokers.map(stopped));
    process.removeListener('exit', orphans);
  }
}
