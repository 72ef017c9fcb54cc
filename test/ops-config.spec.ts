// doc/architecture.md §10 config: KiteQ's TOML (conf/cluster.toml, sections file_dev and memory_dev) starts the
// broker; precedence is flags > KITEQ_* variables > TOML > defaults; a bad value stops the start
// with exit code 2 and a message naming the key, the value and what is expected.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { resolveConfig } from '../server/cli';
import { CLI_PATH, rmSync, startBrokerProcess, tempDir, type BrokerProcess } from './support/broker';
import { countdown, eventually } from './support/events';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

/** The repository's conf/cluster.toml, from dist/test (compiled) or the working directory. */
function sampleToml(): string {
  const candidates = [join(__dirname, '..', '..', 'conf', 'cluster.toml'), join(process.cwd(), 'conf', 'cluster.toml')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`conf/cluster.toml not found in ${candidates.join(', ')}`);
  return found;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stderr: r.stderr };
}

describe("ops - KiteQ's cluster.toml and config precedence", function () {
  this.timeout(30_000);
  let dir: string;
  let toml: string;
  const procs: BrokerProcess[] = [];

  beforeEach(() => {
    dir = tempDir('kiteq-ops-config-');
    toml = join(dir, 'cluster.toml');
    copyFileSync(sampleToml(), toml); // relative file:// paths resolve next to the TOML: inside dir
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startCluster(cluster: string): Promise<{ proc: BrokerProcess; registryUri: string }> {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const registryUri = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [directBinding('s-mc', 'trade', 'pay-succ')])}`;
    // --registry overrides the TOML's [zookeeper.dev] hosts (flags > TOML); everything else comes from the file.
    const proc = await startBrokerProcess([
      '--config',
      toml,
      '--cluster',
      cluster,
      '--registry',
      registryUri,
      '--bind',
      address,
      '--groups',
      'none',
    ]);
    procs.push(proc);
    return { proc, registryUri };
  }

  async function roundtrip(registryUri: string): Promise<void> {
    const got = countdown(1, 10_000, 'delivery');
    const consumer = new KiteQClient({
      registry: registryUri,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: () => (got.tick(), true),
    });
    const producer = new KiteQClient({
      registry: registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
    });
    try {
      await Promise.all([consumer.start(), producer.start()]);
      await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'from toml' }));
      await got.done;
    } finally {
      await Promise.all([consumer.close(), producer.close()]);
    }
  }

  // pino writes asynchronously: the log line may land a moment after the ready line on stdout.
  const startedLine = async (proc: BrokerProcess) =>
    JSON.parse(
      (await eventually(
        () => proc.log.split('\n').find((l) => l.includes('"kiteq-ts broker started"')),
        5000,
        'the start log line',
      ))!,
    );

  it('starts from the file_dev section with its file store next to the TOML', async () => {
    const { proc, registryUri } = await startCluster('file_dev');
    const started = await startedLine(proc);
    assert.deepEqual(started.topics, ['trade']);
    assert.equal(started.store, `file://${join(dir, 'data', 'kiteq')}?cap=10000000&checkSeconds=10&fsync=batch`);
    assert.match(proc.log, /TOML keys accepted but not used/);
    await roundtrip(registryUri);
    assert.ok(readdirSync(join(dir, 'data', 'kiteq')).length > 0, 'the file store wrote its files');
    assert.equal(await proc.kill('SIGTERM'), 0);
  });

  it('starts from the memory_dev section (maxcap → maxMessages)', async () => {
    const { proc, registryUri } = await startCluster('memory_dev');
    assert.equal((await startedLine(proc)).store, 'memory://?maxMessages=2000000');
    await roundtrip(registryUri);
    assert.equal(await proc.kill('SIGTERM'), 0);
  });

  it('takes flags over KITEQ_* variables over the TOML over defaults', () => {
    const argv = (...extra: string[]) => [
      'node',
      'kiteq-server',
      '--config',
      toml,
      '--cluster',
      'file_dev',
      '--groups',
      'none',
      ...extra,
    ];
    const saved = { topics: process.env.KITEQ_TOPICS, timeout: process.env.KITEQ_DELIVERY_TIMEOUT_MS };
    try {
      delete process.env.KITEQ_TOPICS;
      delete process.env.KITEQ_DELIVERY_TIMEOUT_MS;
      const fromToml = resolveConfig(argv()).config;
      assert.deepEqual(fromToml.topics, ['trade']);
      assert.equal(fromToml.deliveryTimeoutMs, 5000); // deliverySeconds=5
      assert.equal(fromToml.recoverIntervalMs, 10_000); // recoverSeconds=10
      assert.equal(fromToml.publishPermitsPerSecond, 20_000); // recievePermitsPerSecond
      assert.equal(fromToml.registry, 'zk://localhost:2181'); // env="dev" → [zookeeper.dev] hosts
      assert.equal(fromToml.clientIdleMs, 30_000); // not in the TOML: the default
      process.env.KITEQ_TOPICS = 'trade,user-profile';
      process.env.KITEQ_DELIVERY_TIMEOUT_MS = '7000';
      const fromEnv = resolveConfig(argv()).config;
      assert.deepEqual(fromEnv.topics, ['trade', 'user-profile']);
      assert.equal(fromEnv.deliveryTimeoutMs, 7000);
      const fromFlags = resolveConfig(argv('--topics', 'audit', '--delivery-timeout-ms', '9000')).config;
      assert.deepEqual(fromFlags.topics, ['audit']);
      assert.equal(fromFlags.deliveryTimeoutMs, 9000);
    } finally {
      for (const [key, value] of [
        ['KITEQ_TOPICS', saved.topics],
        ['KITEQ_DELIVERY_TIMEOUT_MS', saved.timeout],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('rejects a bad value at start with exit code 2, naming the key, the value and what is expected', () => {
    writeFileSync(
      join(dir, 'bad.toml'),
      '[zookeeper.dev]\nhosts="localhost:2181"\n[clusters.bad]\nenv="dev"\ntopics=["trade"]\ndeliverySeconds="five"\n',
    );
    const badToml = runCli(['--config', join(dir, 'bad.toml'), '--cluster', 'bad', '--groups', 'none']);
    assert.equal(badToml.code, 2);
    assert.match(
      badToml.stderr,
      /bad config clusters\.bad\.deliverySeconds="five": expected a positive integer \(seconds\)/,
    );

    const noCluster = runCli(['--config', toml, '--cluster', 'nosuch', '--groups', 'none']);
    assert.equal(noCluster.code, 2);
    assert.match(
      noCluster.stderr,
      /bad config cluster="nosuch": expected one of \[default, file_dev, mysql_dev, memory_dev\]/,
    );

    const badFlag = runCli(['--delivery-timeout-ms', 'soon', '--groups', 'none']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /bad config deliveryTimeoutMs="soon": expected a number/);

    const badEnv = runCli(['--groups', 'none'], { KITEQ_LOG_LEVEL: 'loud' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /bad config logLevel="loud": expected trace\|debug\|info\|warn\|error\|fatal\|silent/);
  });

  it('takes --max-delay from maxDelaySeconds, below the flag and KITEQ_MAX_DELAY, and refuses a bad one', () => {
    const delayed = join(dir, 'delayed.toml');
    writeFileSync(delayed, '[zookeeper.dev]\nhosts="localhost:2181"\n[clusters.c]\nenv="dev"\nmaxDelaySeconds=3600\n');
    const argv = (...extra: string[]) => ['node', 'kiteq-server', '--config', delayed, '--cluster', 'c', ...extra];
    const saved = process.env.KITEQ_MAX_DELAY;
    try {
      delete process.env.KITEQ_MAX_DELAY;
      const { config, toml: loaded } = resolveConfig(argv('--groups', 'none'));
      assert.equal(config.maxDelaySec, 3600);
      assert.deepEqual(loaded?.unknown, [], 'a key kiteq-ts knows, not warned about as a typo');
      assert.equal(resolveConfig(argv('--groups', 'none', '--max-delay', '60')).config.maxDelaySec, 60);
      process.env.KITEQ_MAX_DELAY = '120';
      assert.equal(resolveConfig(argv('--groups', 'none')).config.maxDelaySec, 120);
    } finally {
      if (saved === undefined) delete process.env.KITEQ_MAX_DELAY;
      else process.env.KITEQ_MAX_DELAY = saved;
    }
    writeFileSync(delayed, '[zookeeper.dev]\nhosts="localhost:2181"\n[clusters.c]\nenv="dev"\nmaxDelaySeconds=-5\n');
    const bad = runCli(['--config', delayed, '--cluster', 'c', '--groups', 'none']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad config clusters\.c\.maxDelaySeconds=-5: expected a positive integer \(seconds\)/);
  });
});
