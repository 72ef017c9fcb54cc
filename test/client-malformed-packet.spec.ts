// A malformed packet from a broker closes that connection only: the consumer process (a child
// process, so "stays up" is real) reconnects with back-off and keeps consuming (doc/client.md).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { decodeDeliverAck } from '../protocol/messages/deliver-ack';
import { encodeMessage } from '../protocol/messages/message';
import { tempDir } from './support/broker';
import { countdown } from './support/events';
import { FakeBroker } from './support/fake-broker';
import { aHeader } from './support/messages';
import { writeRegistryFile } from './support/registry-file';

const FIXTURE = join(__dirname, 'fixtures', 'client-consumer.js');

function delivery(body: string) {
  const header = aHeader({ topic: 'trade', messageType: 'pay-succ' });
  return { header, bytes: Buffer.from(encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body })) };
}

describe('client - a broker sends a malformed packet', function () {
  this.timeout(30_000);
  let fake: FakeBroker;
  let child: ChildProcess;
  let dir: string;
  const lines: Record<string, unknown>[] = [];
  let onLine: () => void = () => {};

  /** Resolves once the child printed a line matching `match`. */
  function lineSeen(match: (line: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<void> {
    const seen = countdown(1, timeoutMs, 'a matching line from the consumer');
    onLine = () => {
      if (lines.some(match)) seen.tick();
    };
    onLine();
    return seen.done;
  }

  beforeEach(async () => {
    fake = await FakeBroker.start();
    dir = tempDir();
    const registry = writeRegistryFile(
      dir,
      [{ address: fake.address, topics: ['trade'] }],
      [directBinding('s-mc', 'trade', 'pay-succ')],
    );
    child = spawn(process.execPath, [FIXTURE, `file://${registry}`, 's-mc', 'trade', 'pay-succ'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    lines.length = 0;
    const ready = countdown(1, 15_000, 'consumer ready');
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      if (parsed.event === 'ready') ready.tick();
      onLine();
    });
    await ready.done;
  });

  afterEach(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a truncated delivery: the process stays up, reconnects and consumes the next message', async () => {
    const first = await fake.connection(0, 10_000);
    const truncated = delivery('cut short').bytes;
    first.sendPacket(7, CmdType.STRING_MESSAGE, truncated.subarray(0, truncated.length - 4));
    await first.closedWithin(5000);

    const second = await fake.connection(1, 10_000);
    const good = delivery('whole');
    second.sendPacket(8, CmdType.STRING_MESSAGE, good.bytes);
    const ackFrame = await second.next((f) => f.cmdType === CmdType.DELIVER_ACK, 5000);
    const ack = decodeDeliverAck(ackFrame.body);
    assert.equal(ackFrame.opaque, 8);
    assert.deepEqual([ack.messageId, ack.status, ack.groupId], [good.header.messageId, true, 's-mc']);
    await lineSeen((l) => l.id === good.header.messageId);
    assert.deepEqual([child.exitCode, child.signalCode], [null, null]);
    const events = lines.map((l) => l.event).filter(Boolean);
    const afterReady = events.slice(events.indexOf('ready') + 1);
    assert.deepEqual(afterReady.slice(0, 4), ['error', 'disconnect', 'reconnecting', 'connect']);
    assert.equal(lines.find((l) => l.event === 'error')?.error, 'ProtocolViolationError');
  });

  it('a body of the wrong wire type: the same', async () => {
    const first = await fake.connection(0, 10_000);
    first.sendPacket(7, CmdType.TX_ACK, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])); // a header field longer than the body
    await first.closedWithin(5000);
    await fake.connection(1, 10_000);
    assert.deepEqual([child.exitCode, child.signalCode], [null, null]);
  });
});
