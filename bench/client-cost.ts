// `kiteq-bench client-cost`: the client library's own CPU per message. A memory-store broker, a
// producer process and a consumer process, each a child of the bench (bench/client-cost-side.ts),
// with no bookkeeping beyond a counter: the producer's and the consumer's CPU per message after
// the warm-up, and the broker's over the producer's window (doc/scaling.md "Client CPU per message").
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBenchConf } from './bench-conf';
import { freePort, startBrokerChild } from './broker-child';
import { cpuBetween, type CpuSample, sampleProcess } from './process-cpu';
import type { SideConfig, SideReport } from './client-cost-side';

/** dist/client, relative to this compiled file (dist/bench/) */
export const OWN_CLIENT_LIB = resolve(__dirname, '..', 'client');
const SIDE = resolve(__dirname, 'client-cost-side.js');

export interface ClientCostOptions {
  /** client library builds to measure, in turn, `rounds` times each (a fresh broker per run) */
  clientLibs: string[];
  rounds: number;
  size: number;
  inFlight: number;
  warmup: number;
  messages: number;
  workDir: string;
  /** node flags for the two client processes, e.g. --cpu-prof --cpu-prof-dir=… */
  nodeArgs?: string[];
  onRun?: (run: ClientCostRun) => void;
}

export interface ClientCostRun {
  clientLib: string;
  round: number;
  /** acked publishes per second over the producer's measured window */
  rate: number;
  producerUs: number;
  consumerUs: number;
  /** producer + consumer: the client library's CPU per message published and received */
  clientUs: number;
  brokerUs: number;
}

export async function runClientCost(options: ClientCostOptions): Promise<ClientCostRun[]> {
  const runs: ClientCostRun[] = [];
  for (let round = 1; round <= options.rounds; round++)
    for (const clientLib of options.clientLibs) {
      const run = await runOnce(options, clientLib, round);
      runs.push(run);
      options.onRun?.(run);
    }
  return runs;
}

async function runOnce(options: ClientCostOptions, clientLib: string, round: number): Promise<ClientCostRun> {
  const dir = mkdtempSync(join(options.workDir, 'kiteq-client-cost-'));
  const port = await freePort();
  const topic = 'trade';
  const common = { topic, messageType: 'pay-succ', secretKey: '123456' };
  const files = writeBenchConf(dir, {
    address: `127.0.0.1:${port}`,
    topics: [topic],
    messageType: common.messageType,
    producerGroup: 'p-cost',
    consumerGroups: ['s-cost'],
    secretKey: common.secretKey,
  });
  const broker = await startBrokerChild({ port, ...files, topics: [topic], store: 'memory://' });
  const sides: ChildProcess[] = [];
  try {
    const config = {
      ...common,
      clientLib,
      registry: `file://${files.registryPath}`,
      size: options.size,
      inFlight: options.inFlight,
      warmup: options.warmup,
      messages: options.messages,
    };
    const consumer = startSide({ ...config, role: 'consumer', groupId: 's-cost' }, options.nodeArgs, sides);
    const producer = startSide({ ...config, role: 'producer', groupId: 'p-cost' }, options.nodeArgs, sides);
    await Promise.all([consumer.next('ready'), producer.next('ready')]);
    const measuring = producer.next('measuring');
    const producerDone = producer.next('done');
    const consumerDone = consumer.next('done');
    producer.child.send({ event: 'go' });
    await measuring;
    const brokerFrom: CpuSample = sampleProcess(broker.pid);
    const produced = await producerDone;
    const brokerCpu = cpuBetween(brokerFrom, sampleProcess(broker.pid), options.messages);
    const consumed = await consumerDone;
    if (produced.event !== 'done' || consumed.event !== 'done') throw new Error('client-cost: no result');
    const producerUs = produced.cpuUs / produced.messages;
    const consumerUs = consumed.cpuUs / consumed.messages;
    return {
      clientLib,
      round,
      rate: Math.round((produced.messages * 1000) / produced.wallMs),
      producerUs: round2(producerUs),
      consumerUs: round2(consumerUs),
      clientUs: round2(producerUs + consumerUs),
      brokerUs: brokerCpu.perMessageUs,
    };
  } finally {
    // each side exits by itself once its client closed (a profile is written then); a stuck one is killed
    await Promise.all(sides.map((side) => exitWithin(side, 10_000)));
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function exitWithin(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

interface Side {
  child: ChildProcess;
  /** the next report of this kind; rejects if the process exits first */
  next(event: SideReport['event']): Promise<SideReport>;
}

function startSide(config: SideConfig, nodeArgs: string[] | undefined, sides: ChildProcess[]): Side {
  const nodeFlags = ['--initial-old-space-size=64', ...(nodeArgs ?? [])];
  // e.g. `valgrind --tool=callgrind`: instruction counts, repeatable on a loaded machine (doc/scaling.md)
  const wrap = (process.env.KITEQ_CLIENT_COST_WRAP ?? '').split(' ').filter((arg) => arg !== '');
  const side = process.env.KITEQ_CLIENT_COST_WRAP_SIDE;
  const wrapped = wrap.length > 0 && (side === undefined || side === config.role);
  const child = fork(SIDE, [JSON.stringify(config)], {
    ...(wrapped ? { execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath, ...nodeFlags] } : {}),
    ...(wrapped ? {} : { execArgv: nodeFlags }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  sides.push(child);
  if (wrapped && wrap.includes('--tool=callgrind')) {
    // the counts of the measured messages alone: zeroed after the warm-up, dumped (file suffix .1) at the end
    const control = (command: string): void => {
      execFileSync('callgrind_control', [command, String(child.pid)], { stdio: 'ignore', timeout: 30_000 });
    };
    child.on('message', (message: SideReport) => {
      if (message.event === 'measuring') control('--zero');
      else if (message.event === 'done') control('--dump=measured');
    });
  }
  // after the dump above (listeners run in order): the side may close now
  child.on('message', (message: SideReport) => {
    if (message.event === 'done') child.send({ event: 'finish' });
  });
  return {
    child,
    next: (event) =>
      new Promise((done, fail) => {
        const onMessage = (message: SideReport): void => {
          if (message.event !== event) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          done(message);
        };
        const onExit = (code: number | null): void =>
          fail(new Error(`client-cost ${config.role} exited with ${code} before "${event}"`));
        child.on('message', onMessage);
        child.once('exit', onExit);
      }),
  };
}

/** The mean of each build's runs, and each build's ratio to the first's. */
export function clientCostSummary(runs: ClientCostRun[]): string {
  const libs = [...new Set(runs.map((r) => r.clientLib))];
  const mean = (lib: string, key: 'clientUs' | 'producerUs' | 'consumerUs' | 'brokerUs' | 'rate'): number => {
    const of = runs.filter((r) => r.clientLib === lib);
    return of.reduce((sum, r) => sum + r[key], 0) / of.length;
  };
  const base = mean(libs[0]!, 'clientUs');
  return libs
    .map(
      (lib) =>
        `${lib}: client ${mean(lib, 'clientUs').toFixed(2)} µs/msg (producer ${mean(lib, 'producerUs').toFixed(2)} + consumer ${mean(lib, 'consumerUs').toFixed(2)}), ×${(mean(lib, 'clientUs') / base).toFixed(2)} | broker ${mean(lib, 'brokerUs').toFixed(1)} µs/msg | ${Math.round(mean(lib, 'rate'))} msg/s`,
    )
    .join('\n');
}
