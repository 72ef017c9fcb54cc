// Fault suite, file store at broker level (child process, real clients):
// - disk full (a real 4 MiB tmpfs; needs root): false store-acks carrying the reason, nothing
//   acked lost, publishes succeed again once delivered messages are reclaimed;
// - corrupted segment tail (truncated record, flipped byte) after SIGKILL: the broker starts and
//   delivers everything written before the damage;
// - damage in the middle of a segment after SIGKILL: only the damaged records are lost, the bytes
//   are kept in damaged/ and counted in /stat and /metrics.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { buildStringMessage, KiteQClient } from '../client';
import { type ChildBroker, startChildBroker, StreamFigures } from './fixtures/fault/harness';
import { STREAM_BINDING } from './fixtures/fault/stream';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { freePort } from './support/ports';
import { flipByte, readBytes, recordAtOrAfter, recordsEnd, segmentFiles } from './support/segments';

function consumerFor(registry: string, figures: StreamFigures): KiteQClient {
  return new KiteQClient({
    registry,
    groupId: 's-fault',
    secretKey: 'k',
    bindings: [STREAM_BINDING],
    listener: (m) => (figures.deliver(m.header.messageId), true),
  });
}

function producerFor(registry: string): KiteQClient {
  return new KiteQClient({
    registry,
    groupId: 'p-fault',
    secretKey: 'k',
    publishTopics: ['trade'],
    sendRetry: { retries: 0 },
  });
}

describe('fault - disk full under the file store (4 MiB tmpfs)', function () {
  this.timeout(90_000);
  let dir: string;
  let mountPoint: string;
  let broker: ChildBroker;
  const clients: KiteQClient[] = [];

  before(async () => {
    dir = tempDir('kiteq-fault-full-');
    mountPoint = join(dir, 'mnt');
    execFileSync('mkdir', ['-p', mountPoint]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    broker = await startChildBroker({
      dir,
      store: `file://${join(mountPoint, 'store')}?segmentBytes=262144`,
      bindings: [STREAM_BINDING],
      args: ['--recover-interval-ms', '1000'],
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.process.kill('SIGKILL');
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers false with the reason while full, loses nothing acked, and accepts again once space returns', async () => {
    const figures = new StreamFigures();
    const producer = producerFor(broker.registryUri);
    clients.push(producer);
    await producer.start();
    // No consumer yet: every message stays stored until the disk fills.
    const body = 'f'.repeat(2048);
    const reasons = new Map<string, number>();
    while (figures.refused < 20) {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          figures.sent++;
          try {
            figures.ack(
              (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body }))).messageId,
            );
          } catch (error) {
            figures.refused++;
            const reason = (error as Error).message;
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          }
        }),
      );
      assert.ok(figures.sent < 20_000, 'the disk never filled');
    }
    assert.ok(
      [...reasons.keys()].some((r) => /Store Full|no space|ENOSPC/i.test(r)),
      `a reason naming the full disk: ${[...reasons.keys()].join(' | ')}`,
    );
    const ackedWhileFull = figures.acked.size;
    // A consumer drains the store; reclaimed segments free the disk; publishes succeed again.
    const consumer = consumerFor(broker.registryUri, figures);
    clients.push(consumer);
    await consumer.start();
    await eventually(
      () => figures.allAckedDelivered(),
      30_000,
      `every acked message delivered (${figures.lost.length} missing)`,
      100,
    );
    const after = await eventually(
      async () => {
        try {
          return (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body }))).messageId;
        } catch {
          return '';
        }
      },
      30_000,
      'a publish accepted after the disk has room again',
      250,
    );
    figures.ack(after);
    await eventually(() => figures.allAckedDelivered(), 10_000, 'the publish after recovery delivered');
    figures.print('disk-full-file', { ackedBeforeFull: ackedWhileFull, reasons: Object.fromEntries(reasons) });
    assert.equal(figures.lost.length, 0);
    assert.equal(broker.process.child.exitCode, null);
  });
});

for (const damage of ['truncated record', 'flipped byte'] as const) {
  describe(`fault - corrupted segment tail after SIGKILL (${damage})`, function () {
    this.timeout(60_000);
    let dir: string;
    let broker: ChildBroker;
    const clients: KiteQClient[] = [];

    before(async () => {
      dir = tempDir('kiteq-fault-tail-');
      broker = await startChildBroker({
        dir,
        store: `file://${join(dir, 'data')}?fsync=always`,
        bindings: [STREAM_BINDING],
        args: ['--recover-interval-ms', '1000'],
      });
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await broker?.process.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts again and delivers everything written before the damage', async () => {
      const figures = new StreamFigures();
      const producer = producerFor(broker.registryUri);
      clients.push(producer);
      await producer.start();
      const ordered: string[] = [];
      for (let i = 0; i < 300; i++) {
        figures.sent++;
        const { messageId } = await producer.send(
          buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `tail ${i}` }),
        );
        figures.ack(messageId);
        ordered.push(messageId);
      }
      await broker.process.kill('SIGKILL');
      const segments = readdirSync(join(dir, 'data'))
        .filter((f) => /^seg-\d+\.log$/.test(f))
        .sort();
      const last = join(dir, 'data', segments[segments.length - 1]);
      const size = recordsEnd(last);
      assert.ok(size > 0 && size <= statSync(last).size);
      const fd = openSync(last, 'r+');
      if (damage === 'truncated record') ftruncateSync(fd, size - 7);
      else {
        const byte = Buffer.alloc(1);
        readSync(fd, byte, 0, 1, size - 5);
        byte[0] ^= 0x5a;
        writeSync(fd, byte, 0, 1, size - 5);
      }
      closeSync(fd);
      broker = { ...broker, process: await broker.process.restart() };
      const consumer = consumerFor(broker.registryUri, figures);
      clients.push(consumer);
      await consumer.start();
      // Everything before the damaged (last) record; the last message may be the damaged one.
      const beforeDamage = ordered.slice(0, -1);
      await eventually(
        () => beforeDamage.every((id) => figures.delivered.has(id)),
        20_000,
        'every message before the damaged tail delivered',
        100,
      );
      figures.print(`corrupt-tail-${damage.replace(' ', '-')}`, {
        lastRecordKept: figures.delivered.has(ordered[ordered.length - 1]),
      });
      assert.equal(broker.process.child.exitCode, null);
    });
  });
}

describe('fault - damage in the middle of a segment after SIGKILL', function () {
  this.timeout(90_000);
  let dir: string;
  let http: string;
  let broker: ChildBroker;
  const clients: KiteQClient[] = [];

  before(async () => {
    dir = tempDir('kiteq-fault-middle-');
    http = `127.0.0.1:${await freePort()}`;
    broker = await startChildBroker({
      dir,
      store: `file://${join(dir, 'data')}?fsync=batch`,
      bindings: [STREAM_BINDING],
      args: ['--recover-interval-ms', '1000', '--http', http],
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await broker?.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses only the two messages whose records were damaged (a payload byte, a length byte), delivers the other 2,998', async () => {
    const figures = new StreamFigures();
    const producer = producerFor(broker.registryUri);
    clients.push(producer);
    await producer.start();
    let next = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < 3000) {
          next++;
          figures.sent++;
          figures.ack(
            (
              await producer.send(
                buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `middle ${next}` }),
              )
            ).messageId,
          );
        }
      }),
    );
    await broker.process.kill('SIGKILL');
    const segments = segmentFiles(join(dir, 'data'));
    assert.equal(segments.length, 1);
    const file = segments[0]!;
    const end = recordsEnd(file);
    const payloadHit = recordAtOrAfter(file, Math.floor(end / 3), 'message');
    const lengthHit = recordAtOrAfter(file, Math.floor((2 * end) / 3), 'message');
    flipByte(file, payloadHit.offset + payloadHit.length - 3);
    flipByte(file, lengthHit.offset + 1, 0x01);
    const damaged = [
      readBytes(file, payloadHit.offset, payloadHit.length),
      readBytes(file, lengthHit.offset, lengthHit.length),
    ];
    broker = { ...broker, process: await broker.process.restart() };
    const consumer = consumerFor(broker.registryUri, figures);
    clients.push(consumer);
    await consumer.start();
    const lost = [payloadHit.id, lengthHit.id];
    const owed = [...figures.acked].filter((id) => !lost.includes(id));
    assert.equal(owed.length, 2998);
    await eventually(
      () => owed.every((id) => figures.delivered.has(id)),
      30_000,
      `every acked message but the damaged ones delivered (${owed.filter((id) => !figures.delivered.has(id)).length} missing)`,
      100,
    );
    const copies = readdirSync(join(dir, 'data', 'damaged')).sort(
      (a, b) => Number(/-(\d+)\.bin$/.exec(a)![1]) - Number(/-(\d+)\.bin$/.exec(b)![1]),
    );
    assert.deepEqual(
      copies.map((name) => readFileSync(join(dir, 'data', 'damaged', name))),
      damaged,
    );
    const stat = (await (await fetch(`http://${http}/stat`)).json()) as { kiteq_ts: { store_damage: unknown } };
    assert.deepEqual(stat.kiteq_ts.store_damage, { ranges: 2, bytes: payloadHit.length + lengthHit.length });
    assert.match(await (await fetch(`http://${http}/metrics`)).text(), /^kiteq_store_damaged_ranges_total 2$/m);
    assert.match(broker.process.log, /damaged bytes at offset \d+ \(corrupt record, skipped\)/);
    assert.match(broker.process.log, /damaged bytes at offset \d+ \(corrupt record, resynchronised\)/);
    figures.print('damage-middle-of-segment', { damagedRecords: 2, evidence: copies });
    assert.deepEqual(figures.lost.sort(), lost.sort());
    assert.equal(broker.process.child.exitCode, null);
  });
});
