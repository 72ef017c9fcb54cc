// Fault suite: a consumer and a producer killed with SIGKILL mid-stream (each a child
// process, test/fixtures/fault/client-process.ts). Nothing acked is lost: the dead consumer's
// unacked deliveries go to another consumer of its group; the dead producer's prepared messages
// are resolved by check-back (doc/architecture.md §7) through another producer of its group.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { KiteQClient } from '../client';
import { type ChildBroker, startChildBroker } from './fixtures/fault/harness';
import { STREAM_BINDING, startStream, type Stream } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';

const CLIENT_SCRIPT = join(__dirname, 'fixtures', 'fault', 'client-process.js');

interface ClientProcess {
  child: ChildProcess;
  events: Record<string, string>[];
  exited: Promise<void>;
}

function startClientProcess(role: 'consumer' | 'producer', registry: string): ClientProcess {
  const child = spawn(process.execPath, [CLIENT_SCRIPT, role, registry], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, string>[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line) events.push(JSON.parse(line));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, events, exited };
}

const ids = (events: Record<string, string>[], key: string) => events.filter((e) => key in e).map((e) => e[key]);

describe('fault - clients killed with SIGKILL mid-stream', function () {
  this.timeout(90_000);
  let dir: string;
  let broker: ChildBroker;
  let stream: Stream | undefined;
  const clients: KiteQClient[] = [];
  const processes: ClientProcess[] = [];

  before(async () => {
    dir = tempDir('kiteq-fault-clients-');
    broker = await startChildBroker({
      dir,
      store: `file://${join(dir, 'data')}`,
      bindings: [STREAM_BINDING],
      args: [
        '--tx-check-age-sec',
        '1',
        '--tx-check-interval-sec',
        '1',
        '--recover-interval-ms',
        '1000',
        '--delivery-timeout-ms',
        '2000',
      ],
    });
  });
  afterEach(async () => {
    await stream?.close();
    stream = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const p of processes.splice(0)) p.child.kill('SIGKILL');
  });
  after(async () => {
    await broker?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('consumer killed: every acked message reaches the group through its other consumer', async () => {
    const doomed = startClientProcess('consumer', broker.registryUri);
    processes.push(doomed);
    await eventually(() => doomed.events.some((e) => e.ready), 10_000, 'the child consumer ready');
    stream = await startStream({ registry: broker.registryUri, producers: 2, window: 8, withConsumer: false });
    const { figures } = stream;
    await eventually(
      () => ids(doomed.events, 'received').length >= 1000,
      30_000,
      '1000 deliveries to the child consumer',
      10,
    );
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const receivedByDoomed = ids(doomed.events, 'received');
    for (const id of receivedByDoomed) figures.deliver(id);
    const ackedAtKill = figures.acked.size;
    const survivor = new KiteQClient({
      registry: broker.registryUri,
      groupId: 's-fault',
      secretKey: 'k',
      bindings: [STREAM_BINDING],
      listener: (m) => (figures.deliver(m.header.messageId), true),
    });
    clients.push(survivor);
    await survivor.start();
    await eventually(() => figures.acked.size >= ackedAtKill + 1000, 30_000, '1000 more acks after the kill', 10);
    await stream.stop();
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      100,
    );
    figures.print('consumer-kill', { receivedByKilledConsumer: receivedByDoomed.length, ackedAtKill });
    assert.equal(figures.lost.length, 0);
  });

  it('producer killed: its acked messages are delivered and its prepared ones resolve through check-back', async () => {
    // Its group's other producer answers check-backs: commit.
    const checker = new KiteQClient({
      registry: broker.registryUri,
      groupId: 'p-fault',
      secretKey: 'k',
      publishTopics: ['trade'],
      txCheckListener: () => 'commit',
    });
    clients.push(checker);
    stream = await startStream({ registry: broker.registryUri, producers: 0 }); // its consumer only
    await checker.start();
    const { figures } = stream;
    const doomed = startClientProcess('producer', broker.registryUri);
    processes.push(doomed);
    await eventually(
      () => ids(doomed.events, 'prepared').length >= 300,
      30_000,
      '300 prepared messages from the child producer',
      10,
    );
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const acked = ids(doomed.events, 'acked');
    const prepared = ids(doomed.events, 'prepared');
    for (const id of [...acked, ...prepared]) figures.ack(id);
    figures.sent = acked.length + prepared.length;
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked and prepared message delivered (${figures.lost.length} missing)`,
      100,
    );
    figures.print('producer-kill', { acked: acked.length, preparedResolvedByCheckBack: prepared.length });
    assert.equal(figures.lost.length, 0);
  });
});
