// Attack (or plain bug): a packet that makes a pipeline stage throw. That connection is closed,
// the error is logged once with the stage's name, and the broker goes on serving everyone else
// (doc/security.md). The throwing stages are injected with BrokerOptions.interceptStage.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { decodeMessage, encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck } from '../protocol/messages/store-ack';
import type { StageInterceptor } from '../handler/stage-error';
import type { PublishEvent } from '../handler/events';
import { captureLog } from './fixtures/fault/log-capture';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import { RawClient } from './support/raw-client';

/** check-message throws on messageType "boom"; persist rejects on "boom-later"; access throws for group "g-boom". */
const throwing: StageInterceptor = (stage, fn) => {
  const typeOf = (args: unknown[]) => (args[0] as PublishEvent).message.header.messageType;
  const wrap = (run: (...args: unknown[]) => unknown) => run as unknown as typeof fn;
  const call = (args: unknown[]) => (fn as unknown as (...a: unknown[]) => unknown)(...args);
  if (stage === 'check-message')
    return wrap((...args) => (typeOf(args) === 'boom' ? assert.fail('injected: check-message') : call(args)));
  if (stage === 'persist')
    return wrap(async (...args) => (typeOf(args) === 'boom-later' ? assert.fail('injected: persist') : call(args)));
  if (stage === 'access')
    return wrap((...args) =>
      (args[2] as { groupId: string }).groupId === 'g-boom' ? assert.fail('injected: access') : call(args),
    );
  return fn;
};

describe('adversary - a packet that makes a stage throw', function () {
  this.timeout(20_000);
  const captured = captureLog();

  const env = withBroker({ bindings: [], brokerOptions: { log: captured.log, interceptStage: throwing } });

  async function producer(): Promise<RawClient> {
    const raw = await RawClient.connect(env.address);
    assert.equal((await raw.handshake('p-trade', 'k')).status, true);
    return raw;
  }

  function publish(raw: RawClient, opaque: number, messageType: string): void {
    const header = aHeader({ messageType });
    raw.sendPacket(
      opaque,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'x' }),
    );
  }

  async function stored(raw: RawClient, opaque: number): Promise<boolean> {
    return decodeStoreAck((await raw.next((f) => f.opaque === opaque)).body).status;
  }

  for (const [messageType, stage] of [
    ['boom', 'check-message'],
    ['boom-later', 'persist'],
  ]) {
    it(`closes the connection whose publish makes ${stage} throw; the others are served`, async () => {
      const bystander = await producer();
      const attacker = await producer();
      const before = captured.find('unexpected error in a stage').length;
      publish(attacker, 7, messageType);
      await attacker.closedWithin(3000);
      const lines = captured.find('unexpected error in a stage').slice(before);
      assert.equal(lines.length, 1, 'logged once');
      assert.equal(lines[0].stage, stage);
      assert.match(JSON.stringify(lines[0].err), /injected/);
      // The broker goes on: the bystander's connection and new connections publish as before.
      publish(bystander, 8, 'pay-succ');
      assert.equal(await stored(bystander, 8), true);
      const fresh = await producer();
      publish(fresh, 9, 'pay-succ');
      assert.equal(await stored(fresh, 9), true);
      bystander.close();
      fresh.close();
    });
  }

  it('closes a connection whose CONN_META makes access throw; the others connect', async () => {
    const attacker = await RawClient.connect(env.address);
    attacker.sendPacket(1, CmdType.CONN_META, Buffer.from('0a06672d626f6f6d12016b', 'hex')); // {groupId "g-boom", secretKey "k"}
    await attacker.closedWithin(3000);
    assert.equal(captured.find('unexpected error in a stage').at(-1)?.stage, 'access');
    const fresh = await producer();
    fresh.close();
  });
});

describe('adversary - a delivery that makes the deliver stage throw', function () {
  this.timeout(20_000);
  const captured = captureLog();
  let thrown = 0;

  /** deliver throws on the first attempt of a message of type "boom-deliver", before writing anything */
  const throwing: StageInterceptor = (stage, fn) => {
    if (stage !== 'deliver') return fn;
    const call = fn as unknown as (
      job: { message: { header: { messageType: string } } },
      ...rest: unknown[]
    ) => unknown;
    return ((job: Parameters<typeof call>[0], ...rest: unknown[]) => {
      if (job.message.header.messageType === 'boom-deliver' && thrown++ === 0) assert.fail('injected: deliver');
      return call(job, ...rest);
    }) as unknown as typeof fn;
  };

  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'boom-deliver'), directBinding('s-mc', 'trade', 'pay-succ')],
    brokerOptions: { log: captured.log, interceptStage: throwing },
  });

  it('fails that attempt, logs it once with the stage, retries it, and serves everyone else', async () => {
    const consumer = await RawClient.connect(env.address);
    assert.equal((await consumer.handshake('s-mc', 'k')).status, true);
    const producer = await RawClient.connect(env.address);
    assert.equal((await producer.handshake('p-trade', 'k')).status, true);
    const boom = aHeader({ messageType: 'boom-deliver' });
    producer.sendPacket(
      1,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header: boom, body: 'x' }),
    );
    const delivery = await consumer.next((f) => f.cmdType === CmdType.STRING_MESSAGE);
    assert.equal(
      decodeMessage(CmdType.STRING_MESSAGE, delivery.body).header.messageId,
      boom.messageId,
      'delivered on the retry',
    );
    assert.equal(thrown, 2, 'the first attempt threw, the second went through');
    const lines = captured.find('unexpected error in a stage');
    assert.equal(lines.length, 1, 'logged once');
    assert.equal(lines[0].stage, 'deliver');
    // the same connections go on: a second message is stored and delivered
    const next = aHeader({ messageType: 'pay-succ' });
    producer.sendPacket(
      2,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header: next, body: 'y' }),
    );
    await consumer.next(
      (f) =>
        f.cmdType === CmdType.STRING_MESSAGE &&
        decodeMessage(CmdType.STRING_MESSAGE, f.body).header.messageId === next.messageId,
    );
    consumer.close();
    producer.close();
  });
});
