// Fault suite, protocol fuzzing: at least 100,000 mutated frames (flipped bits, wrong
// lengths, wrong command codes, truncated bodies, spliced frames, random bodies) and random bytes
// over 50 connections that reconnect as the broker closes them, while a well-behaved producer and
// consumer keep a stream going. The broker (a child process) must not crash, the stream must
// lose nothing acked, and the broker's RSS must come back near its baseline.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { directBinding, fanoutBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { FrameMutator, validFrames } from './fixtures/fault/frame-mutator';
import { type ChildBroker, rssKb, seededRandom, startChildBroker, StreamFigures } from './fixtures/fault/harness';
import { tempDir } from './support/broker';
import { eventually } from './support/events';

const MUTATED_FRAMES = 100_000;
const ROUNDS = 5;
const CONNECTIONS = 50;
const FRAMES_PER_CONNECTION = 40;

function openSocket(address: string): Promise<Socket> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket closes; destroys it after timeoutMs (a peer the broker rightly keeps). */
function closed(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => (socket.destroy(), resolve(false)), timeoutMs);
    socket.once('close', () => (clearTimeout(timer), resolve(true)));
  });
}

describe('fuzz - protocol: mutated frames and random bytes while a stream runs', function () {
  this.timeout(120_000);
  const seed = Number(process.env.KITEQ_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let dir: string;
  let broker: ChildBroker;

  before(async () => {
    dir = tempDir('kiteq-fuzz-');
    broker = await startChildBroker({
      dir,
      store: 'memory://',
      bindings: [
        directBinding('s-stream', 'trade', 'stream', { watermark: 50_000 }),
        fanoutBinding('fuzz-sink', 'trade', { persistent: false, watermark: 50_000 }),
      ],
      groups: [
        { groupId: 'p-stream', secretKey: 'ps' },
        { groupId: 's-stream', secretKey: 'ss' },
        { groupId: 'fuzz', secretKey: 'fz' },
      ],
      // bit-flipped CONN_METAs are failed handshakes: do not let them block 127.0.0.1 here
      args: ['--auth-timeout-ms', '1000', '--auth-fail-limit', '100000000', '--log-level', 'error'],
    });
  });
  after(async () => {
    await broker?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${ROUNDS} x ${MUTATED_FRAMES} mutated frames over ${CONNECTIONS} connections; the stream loses nothing; memory returns`, async () => {
    const figures = new StreamFigures();
    const consumer = new KiteQClient({
      registry: broker.registryUri,
      groupId: 's-stream',
      secretKey: 'ss',
      bindings: [directBinding('s-stream', 'trade', 'stream', { watermark: 50_000 })],
      listener: (m) => (figures.deliver(m.header.messageId), true),
    });
    const producer = new KiteQClient({
      registry: broker.registryUri,
      groupId: 'p-stream',
      secretKey: 'ps',
      publishTopics: ['trade'],
      requestTimeoutMs: 10_000,
    });
    await Promise.all([consumer.start(), producer.start()]);

    let streaming = true;
    const publishLoop = async () => {
      while (streaming) {
        figures.sent++;
        try {
          const ack = await producer.send(
            buildStringMessage({ topic: 'trade', messageType: 'stream', body: `stream ${figures.sent}` }),
          );
          figures.ack(ack.messageId);
        } catch {
          figures.refused++; // not acked: not owed (a retry would carry a new id here)
        }
      }
    };
    const publishers = Array.from({ length: 4 }, publishLoop);

    // Warm-up: the stream runs alone, then with a half round of fuzzing (so V8's heap has grown to
    // its working size under this traffic); then the baseline is taken.
    await eventually(() => figures.delivered.size >= 2000, 20_000, '2000 stream messages delivered before fuzzing');
    const pid = broker.process.child.pid!;
    const preFuzzKb = rssKb(pid);
    let baselineKb = preFuzzKb;
    let peakKb = baselineKb;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(pid))), 250);

    const random = seededRandom(seed);
    const mutator = new FrameMutator(random, validFrames('fuzz', 'fz', 'fuzz'));
    const handshake = validFrames('fuzz', 'fz', 'fuzz')[0];
    let mutated = 0;
    let randomBytes = 0;
    let connections = 0;
    let closedByBroker = 0;
    const worker = async (target: number) => {
      while (mutated < target) {
        let socket: Socket;
        try {
          socket = await openSocket(broker.address);
        } catch {
          continue;
        }
        connections++;
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        const chunks: Buffer[] = [];
        const mode = random();
        if (mode < 0.1) {
          const n = 1 + Math.floor(random() * 8192);
          chunks.push(mutator.randomBytes(n));
          randomBytes += n;
        } else {
          if (mode < 0.7) chunks.push(handshake); // most get past CONN_META, so later stages see garbage too
          for (let i = 0; i < FRAMES_PER_CONNECTION; i++) chunks.push(mutator.next());
          mutated += FRAMES_PER_CONNECTION;
        }
        socket.write(Buffer.concat(chunks));
        if (random() < 0.95) socket.end(); // else wait for the broker to close it (violation or auth timeout)
        if (await closed(socket, 1500)) closedByBroker++;
      }
    };
    // Rounds of 100,000: RSS after the last round must not have kept climbing past the third (a leak
    // would). Not the second: the allocator's high-water mark can still be rising then, with no leak.
    const afterRoundKb: number[] = [];
    const started = Date.now();
    const warmupFrames = MUTATED_FRAMES / 2;
    await Promise.all(Array.from({ length: CONNECTIONS }, () => worker(warmupFrames)));
    baselineKb = rssKb(pid);
    for (let round = 1; round <= ROUNDS; round++) {
      await Promise.all(Array.from({ length: CONNECTIONS }, () => worker(warmupFrames + round * MUTATED_FRAMES)));
      afterRoundKb.push(rssKb(pid));
    }
    const fuzzMs = Date.now() - started;

    assert.equal(broker.process.child.exitCode, null, `broker exited; log:\n${broker.process.log.slice(-4000)}`);
    streaming = false;
    await Promise.all(publishers);
    await eventually(
      () => figures.allAckedDelivered(),
      20_000,
      `every acked stream message delivered (lost so far: ${figures.lost.length})`,
    );
    // Memory: the fuzz connections are gone; RSS must settle near the baseline. RSS keeps the
    // allocator's high-water mark even once the JS heap is back where it started, so "near" is a
    // generous +48 MB over the warmed-up baseline, and a leak is caught by the round-over-round check.
    const limitKb = baselineKb + 48 * 1024;
    const afterKb = await eventually(
      () => {
        const now = rssKb(pid);
        return now <= limitKb ? now : 0;
      },
      20_000,
      `broker RSS back under ${Math.round(limitKb / 1024)} MB (baseline ${Math.round(baselineKb / 1024)} MB)`,
      500,
    ).finally(() => clearInterval(sampler));
    const mb = (kb: number) => +(kb / 1024).toFixed(1);
    figures.print('fuzz-protocol', {
      seed,
      mutatedFrames: mutated,
      randomBytes,
      connections,
      closedByBroker,
      fuzzMs,
      mutations: mutator.counts,
      rssMB: {
        preFuzz: mb(preFuzzKb),
        baseline: mb(baselineKb),
        afterEachRound: afterRoundKb.map(mb),
        peak: mb(peakKb),
        settled: mb(afterKb),
      },
    });
    assert.ok(mutated >= ROUNDS * MUTATED_FRAMES);
    assert.ok(
      afterRoundKb[ROUNDS - 1] <= afterRoundKb[2] * 1.1 + 10_000,
      `RSS keeps growing round after round: ${afterRoundKb.map(mb).join(' → ')} MB`,
    );
    assert.equal(figures.lost.length, 0);
    assert.equal(broker.process.child.exitCode, null);
    await Promise.all([producer.close(), consumer.close()]);
  });
});
