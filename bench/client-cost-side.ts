// One side of `kiteq-bench client-cost` (bench/client-cost.ts), run as a child process of its own
// so its CPU is the client library's alone: a producer keeping `inFlight` sends open, or a consumer
// whose listener only counts. Each reports its CPU over the messages after the warm-up to the parent
// over IPC (doc/scaling.md "Client CPU per message").
import type * as ClientLib from '../client';

export interface SideConfig {
  role: 'producer' | 'consumer';
  /** the client library to load: a directory holding index.js (a build of client/, e.g. a baseline's) */
  clientLib: string;
  registry: string;
  topic: string;
  messageType: string;
  groupId: string;
  secretKey: string;
  size: number;
  inFlight: number;
  warmup: number;
  messages: number;
}

/** child → parent */
export type SideReport =
  { event: 'ready' } | { event: 'measuring' } | { event: 'done'; cpuUs: number; messages: number; wallMs: number };

/** parent → side: `go` starts the producer (the consumer is connected by then); `finish` lets a side close, once its counts are taken */
export interface SideCommand {
  event: 'go' | 'finish';
}

function command(event: SideCommand['event']): Promise<void> {
  return new Promise((resolve) => {
    const on = (message: SideCommand): void => {
      if (message.event !== event) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

function report(message: SideReport): void {
  process.send!(message);
}

/** The CPU this process used so far, user + system, all threads, in µs. */
function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function runProducer(lib: typeof ClientLib, config: SideConfig): Promise<void> {
  const client = new lib.KiteQClient({
    registry: config.registry,
    groupId: config.groupId,
    secretKey: config.secretKey,
    publishTopics: [config.topic],
  });
  await client.start();
  report({ event: 'ready' });
  await command('go');
  const body = Buffer.alloc(config.size, 0x61);
  const total = config.warmup + config.messages;
  let sent = 0;
  let acked = 0;
  let from = { cpu: 0, ms: 0 };
  const lane = async (): Promise<void> => {
    while (sent < total) {
      sent++;
      await client.send(lib.buildBytesMessage({ topic: config.topic, messageType: config.messageType, body }));
      if (++acked === config.warmup) {
        from = { cpu: cpuUs(), ms: performance.now() };
        report({ event: 'measuring' });
      }
    }
  };
  if (config.warmup === 0) {
    from = { cpu: cpuUs(), ms: performance.now() };
    report({ event: 'measuring' });
  }
  await Promise.all(Array.from({ length: config.inFlight }, lane));
  const finish = command('finish');
  report({ event: 'done', cpuUs: cpuUs() - from.cpu, messages: config.messages, wallMs: performance.now() - from.ms });
  await finish;
  await client.close();
}

async function runConsumer(lib: typeof ClientLib, config: SideConfig): Promise<void> {
  const total = config.warmup + config.messages;
  let received = 0;
  let from = { cpu: cpuUs(), ms: performance.now() };
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const client = new lib.KiteQClient({
    registry: config.registry,
    groupId: config.groupId,
    secretKey: config.secretKey,
    bindings: [lib.directBinding(config.groupId, config.topic, config.messageType, { watermark: 1_000_000 })],
    listener: () => {
      if (++received === config.warmup) {
        from = { cpu: cpuUs(), ms: performance.now() };
        report({ event: 'measuring' });
      } else if (received === total) finish();
      return true;
    },
  });
  await client.start();
  report({ event: 'ready' });
  await finished;
  const finishing = command('finish');
  report({ event: 'done', cpuUs: cpuUs() - from.cpu, messages: config.messages, wallMs: performance.now() - from.ms });
  await finishing;
  await client.close({ drain: true });
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2]!) as SideConfig;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the library under test is chosen at run time
  const lib = require(config.clientLib) as typeof ClientLib;
  (config.role === 'producer' ? runProducer(lib, config) : runConsumer(lib, config))
    .then(() => process.exit(0))
    .catch((error) => {
      process.stderr.write(`client-cost ${config.role}: ${(error as Error).stack}\n`);
      process.exit(1);
    });
}
