// Fault suite for the HTTP gateway's pull consume (doc/http-gateway.md "Pull consume"): the broker
// (a child process) is killed with SIGKILL while 4 native producers stream and one HTTP poller
// pulls and acks, and restarted on the same addresses. Every message that got a true store-ack
// must reach the poller (lost = 0); duplicates are allowed (at-least-once) and counted.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildBroker, startChildBroker, type StreamFigures } from './fixtures/fault/harness';
import { STREAM_BINDING, startStream, type Stream } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { GatewayCaller } from './support/gateway-consume';
import { freshTestDatabase, type TestDatabase } from './support/mariadb';
import { freePort } from './support/ports';

const KILLS = 3;

/** Pulls and acks until stopped; a broker that is down (connection refused) is polled again shortly. */
function pullLoop(http: GatewayCaller, figures: StreamFigures): { stop(): Promise<void>; errors: number } {
  let running = true;
  const state = { errors: 0 };
  const done = (async () => {
    while (running) {
      try {
        const answer = await http.pull({ topic: 'trade', type: 'pay-succ', max: 500, wait: 1 });
        if (answer.status !== 200) throw new Error(`pull answered ${answer.status}`);
        for (const m of answer.body) figures.deliver(m.messageId);
        if (answer.body.length > 0) await http.settle({ ack: answer.body.map((m) => m.messageId) });
      } catch {
        state.errors++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
    get errors() {
      return state.errors;
    },
  };
}

const backends: { name: string; store: (dir: string, db: TestDatabase | null) => string; mysql: boolean }[] = [
  { name: 'file store', store: (dir) => `file://${join(dir, 'data')}?fsync=batch&segmentBytes=1048576`, mysql: false },
  { name: 'mysql store', store: (_dir, db) => db!.uri(), mysql: true },
];

for (const backend of backends) {
  describe(`gateway pull - broker SIGKILL x${KILLS} during a stream to an HTTP poller (${backend.name})`, function () {
    this.timeout(180_000);
    let dir: string;
    let db: TestDatabase | null = null;
    let broker: ChildBroker;
    let stream: Stream | undefined;
    let gatewayPort: number;

    before(async () => {
      dir = tempDir('kiteq-gw-kill-');
      if (backend.mysql) db = await freshTestDatabase();
      gatewayPort = await freePort();
      broker = await startChildBroker({
        dir,
        store: backend.store(dir, db),
        bindings: [STREAM_BINDING],
        args: ['--recover-interval-ms', '1000', '--gateway', `127.0.0.1:${gatewayPort}`],
      });
    });
    after(async () => {
      await stream?.close();
      await broker?.process.kill('SIGKILL');
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every store-acked message reaches the HTTP poller (lost = 0)', async () => {
      stream = await startStream({ registry: broker.registryUri, producers: 4, window: 8, withConsumer: false });
      const { figures } = stream;
      const poller = pullLoop(new GatewayCaller(`http://127.0.0.1:${gatewayPort}`, 's-fault', 'k'), figures);
      const killedAtAcked: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        const target = figures.acked.size + 300 + Math.floor(Math.random() * 1200);
        await eventually(() => figures.acked.size >= target, 30_000, `${target} acks before kill ${k + 1}`, 5);
        killedAtAcked.push(figures.acked.size);
        await broker.process.kill('SIGKILL');
        broker = { ...broker, process: await broker.process.restart() };
      }
      const progress = figures.acked.size;
      await eventually(
        () => figures.acked.size > progress + 200,
        30_000,
        'publishing resumes after the last restart',
        5,
      );
      await stream.stop();
      await eventually(
        () => figures.allAckedDelivered(),
        90_000,
        `every acked message pulled (${figures.lost.length} missing)`,
        200,
      );
      await poller.stop();
      figures.print(`gateway-pull-broker-kill-${backend.mysql ? 'mysql' : 'file'}`, {
        kills: KILLS,
        killedAtAcked,
        pollErrors: poller.errors,
      });
      assert.equal(figures.lost.length, 0);
      assert.ok(figures.acked.size > 1000, `the stream made progress (${figures.acked.size} acked)`);
    });
  });
}
