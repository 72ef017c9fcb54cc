// 10,000 idle and half-open connections against a broker (child process) capped at
// 2,000: those past the cap are closed at once with a few log lines, the ones held are evicted at
// the unauthenticated-time limit, and a well-behaved producer/consumer keeps round-tripping.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { CmdType } from '../protocol/commands';
import { encodePacket } from '../protocol/packet-header';
import { type ChildBroker, startChildBroker } from './fixtures/fault/harness';
import { tempDir } from './support/broker';
import { eventually } from './support/events';

const FLOOD = 10_000;
const MAX_CONNECTIONS = 2000;
const AUTH_TIMEOUT_MS = 3000;
type Kind = 'idle' | 'partial-frame' | 'half-closed';

interface FloodSocket {
  socket: Socket;
  kind: Kind;
  closed: boolean;
  connectedAt: number;
  closedAt: number;
}

function open(address: string, kind: Kind): Promise<FloodSocket | null> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({
      host: address.slice(0, i),
      port: Number(address.slice(i + 1)),
      allowHalfOpen: kind === 'half-closed',
    });
    const entry: FloodSocket = { socket, kind, closed: false, connectedAt: 0, closedAt: 0 };
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.once('close', () => {
      entry.closed = true;
      entry.closedAt = Date.now();
    });
    socket.once('connect', () => {
      entry.connectedAt = Date.now();
      if (kind === 'partial-frame') socket.write(encodePacket(1, CmdType.CONN_META, Buffer.alloc(40)).subarray(0, 12));
      if (kind === 'half-closed') socket.end();
      resolve(entry);
    });
    socket.once('error', () => resolve(null));
  });
}

describe('hardening - 10,000 idle and half-open connections', function () {
  this.timeout(90_000);
  let dir: string;
  let broker: ChildBroker;

  before(async () => {
    dir = tempDir('kiteq-flood-');
    broker = await startChildBroker({
      dir,
      store: 'memory://',
      bindings: [directBinding('s-mc', 'trade', 'ping', { watermark: 10_000 })],
      args: ['--max-connections', String(MAX_CONNECTIONS), '--auth-timeout-ms', String(AUTH_TIMEOUT_MS)],
    });
  });
  after(async () => {
    await broker?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses connections past the cap, evicts the idle ones, and keeps round-tripping', async () => {
    const received = new Map<string, number>();
    const consumer = new KiteQClient({
      registry: broker.registryUri,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'ping', { watermark: 10_000 })],
      listener: (m) => (received.set(m.header.messageId, Date.now()), true),
    });
    const producer = new KiteQClient({
      registry: broker.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
    });
    await Promise.all([consumer.start(), producer.start()]);
    const roundtrip = async (): Promise<number> => {
      const started = Date.now();
      const { messageId } = await producer.send(
        buildStringMessage({ topic: 'trade', messageType: 'ping', body: 'ping' }),
      );
      await eventually(() => received.has(messageId), 5000, 'the ping delivered', 5);
      return received.get(messageId)! - started;
    };
    const before = await roundtrip();

    const kinds: Kind[] = ['idle', 'partial-frame', 'half-closed'];
    const sockets: FloodSocket[] = [];
    const floodStarted = Date.now();
    const roundtripsDuring: number[] = [];
    for (let i = 0; i < FLOOD; i += 500) {
      const batch = await Promise.all(Array.from({ length: 500 }, (_, j) => open(broker.address, kinds[(i + j) % 3])));
      for (const s of batch) if (s) sockets.push(s);
      if (i % 2500 === 0) roundtripsDuring.push(await roundtrip());
    }
    const floodEnded = Date.now();
    const floodMs = floodEnded - floodStarted;
    // A slow flood outlasts AUTH_TIMEOUT_MS: each idle socket evicted meanwhile freed a slot that a
    // later socket took instead of being refused. Refusals close at once; evictions after the timeout.
    const evictedDuringFlood = sockets.filter(
      (s) =>
        s.kind !== 'half-closed' &&
        s.closed &&
        s.closedAt <= floodEnded &&
        s.closedAt - s.connectedAt >= AUTH_TIMEOUT_MS / 2,
    ).length;
    // Sockets past the cap were closed by the broker at once; what stays open is at most the cap.
    await eventually(
      () => sockets.filter((s) => !s.closed && s.kind !== 'half-closed').length <= MAX_CONNECTIONS - 2,
      5000,
      'sockets past the cap closed',
    );
    const heldOpen = sockets.filter((s) => !s.closed).length;
    roundtripsDuring.push(await roundtrip());
    assert.equal(broker.process.child.exitCode, null, 'broker alive');

    // Unauthenticated connections are evicted at AUTH_TIMEOUT_MS; then new clients get in again.
    await eventually(
      () => sockets.every((s) => s.closed || s.kind === 'half-closed'),
      AUTH_TIMEOUT_MS + 5000,
      'the held idle connections evicted',
    );
    for (const s of sockets) s.socket.destroy();
    const late = new KiteQClient({
      registry: broker.registryUri,
      groupId: 'p-late',
      secretKey: 'k',
      publishTopics: ['trade'],
    });
    await late.start();
    assert.equal(late.readyConnections, 1, 'a new client gets in after the flood');
    const { messageId } = await late.send(buildStringMessage({ topic: 'trade', messageType: 'ping', body: 'late' }));
    await eventually(() => received.has(messageId), 5000, 'the late ping delivered');
    const after = await roundtrip();

    const refusedLines = broker.process.log.split('\n').filter((l) => l.includes('max connections reached'));
    const totalRefused = refusedLines.reduce((n, l) => n + Number(/"refused":(\d+)/.exec(l)?.[1] ?? 1), 0);
    process.stdout.write(
      `      FLOOD ${JSON.stringify({ opened: sockets.length, heldOpenAfterFlood: heldOpen, refusedByBroker: totalRefused, evictedDuringFlood, refusalLogLines: refusedLines.length, floodMs, roundtripMs: { before, during: roundtripsDuring, after } })}\n`,
    );
    assert.equal(sockets.length, FLOOD, 'every TCP connect completed (the kernel accepts; the broker then refuses)');
    // Half-closed sockets are closed by the broker on their FIN and free their slot: the idle and
    // partial-frame ones past the cap (and past the slots evictions freed) must all have been refused.
    const holding = sockets.filter((s) => s.kind !== 'half-closed').length;
    const mustRefuse = holding - MAX_CONNECTIONS - evictedDuringFlood;
    assert.ok(
      totalRefused >= mustRefuse,
      `refused ${totalRefused}, expected ≥ ${mustRefuse} (${evictedDuringFlood} evicted during the flood)`,
    );
    assert.ok(heldOpen <= MAX_CONNECTIONS, `held ${heldOpen} over the cap`);
    assert.ok(refusedLines.length < 40, `a handful of log lines, not one per socket (${refusedLines.length})`);
    assert.ok(
      Math.max(...roundtripsDuring, after) < 2000,
      `round-trips under 2 s during the flood: ${roundtripsDuring.join(', ')} ms`,
    );
    await Promise.all([late.close(), producer.close(), consumer.close()]);
  });
});
