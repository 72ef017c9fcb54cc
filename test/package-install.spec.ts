// kiteq-ts as a new user gets it: `npm pack`, `npm install <tarball>` into an empty project, the
// README's client example compiled by `tsc --strict` (moduleResolution node and nodenext, as
// CommonJS and as an ES module) and run against the installed package's own kiteq-server; the
// host's protobufjs untouched by `require('kiteq-ts')`; kiteq-bench compare without its optional
// peers. Dependencies come from the npm cache (--prefer-offline); tsc is the repository's.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { directBinding } from '../binding/binding';
import { type BrokerProcess, startBrokerProcess, tempDir } from './support/broker';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';

const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
// guards against tests or data slipping in: 537 kB with the web console (doc/console.md) and the HTTP gateway
const MAX_PACKED_BYTES = 600_000;

/** What the client and the server load at run time; anything else is a decision to make here. */
const RUNTIME_DEPENDENCIES = [
  '@node-rs/crc32',
  'commander',
  'hdr-histogram-js',
  'mysql2',
  'node-zookeeper-client',
  'pino',
  'pino-pretty',
  'prom-client',
  'smol-toml',
  'snappyjs',
  'yaml',
];

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  entryCount: number;
  files: PackedFile[];
}

function versionInRepo(name: string): string {
  return JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The environment without what an enclosing `npm test` set for its own npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
}

function readmeExample(): string {
  const blocks = [...readFileSync(join(REPO, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const example = blocks.find((block) => block.includes("from 'kiteq-ts'"));
  assert.ok(example, "README.md has a ```ts block importing 'kiteq-ts'");
  return example;
}

async function tsc(cwd: string, args: string[]): Promise<void> {
  try {
    await run(process.execPath, [TSC, '--strict', '--target', 'es2022', ...args], { cwd });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    assert.fail(`tsc ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

/** Resolves with the output so far once `pattern` appears in the child's stdout. */
function outputMatching(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
      timeoutMs,
    );
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolvePromise(out);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

describe('package - packed, installed into an empty project and used as a new user would', function () {
  let dir: string;
  let project: string;
  let packed: PackResult;
  let installed: string;
  let broker: BrokerProcess | undefined;
  const children: ChildProcess[] = [];

  before(async function () {
    this.timeout(120_000); // npm pack and npm install of ~70 packages from the cache
    dir = tempDir('kiteq-package-');
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: REPO,
      env: cleanEnv(),
    });
    [packed] = JSON.parse(stdout) as PackResult[];
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'kiteq-user', version: '1.0.0', private: true }),
    );
    // the application's own protobufjs, and @types/node as any TypeScript service on Node has it
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        join(dir, packed.filename),
        `protobufjs@${versionInRepo('protobufjs')}`,
        `@types/node@${versionInRepo('@types/node')}`,
      ],
      { cwd: project, env: cleanEnv() },
    );
    installed = join(project, 'node_modules', 'kiteq-ts');
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await broker?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`packs dist (JS, declarations, source maps), conf, README and LICENSE, no tests, at most ${MAX_PACKED_BYTES / 1000} kB`, () => {
    const paths = new Set(packed.files.map((f) => f.path));
    for (const path of [
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/client/index.js.map',
      'dist/console/index.html',
      'README.md',
      'LICENSE',
      'conf/registry.yaml',
      'conf/groups.yaml',
      'package.json',
    ]) {
      assert.ok(paths.has(path), `${path} is in the package`);
    }
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    for (const path of [
      manifest.main,
      manifest.types,
      manifest.exports['.'].types,
      manifest.exports['.'].default,
      ...Object.values<string>(manifest.bin),
    ]) {
      assert.ok(paths.has(path.replace(/^\.\//, '')), `${path}, named by package.json, is in the package`);
    }
    // the web console's bundle (doc/console.md): served by the admin HTTP server, nothing fetched from outside
    const html = readFileSync(join(REPO, 'dist', 'console', 'index.html'), 'utf8');
    for (const [, asset] of html.matchAll(/"\/console\/([^"]+)"/g))
      assert.ok(paths.has(`dist/console/${asset}`), `the console's ${asset} is in the package`);
    const tests = [...paths].filter((p) => p.startsWith('dist/test/') || /\.spec\.|(^|\/)test\//.test(p));
    assert.deepEqual(tests, [], 'no tests in the package');
    assert.ok(packed.size <= MAX_PACKED_BYTES, `${packed.size} bytes packed, ${packed.entryCount} files`);
  });

  it('depends only on what the client and the server load; amqplib and nats are optional peers, not installed', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), [...RUNTIME_DEPENDENCIES].sort());
    assert.deepEqual(manifest.peerDependenciesMeta, { amqplib: { optional: true }, nats: { optional: true } });
    assert.deepEqual(Object.keys(manifest.peerDependencies).sort(), ['amqplib', 'nats']);
    for (const name of ['amqplib', 'nats'])
      assert.ok(!existsSync(join(project, 'node_modules', name)), `${name} was not installed`);
  });

  it("leaves the application's protobufjs as it was: its int64 2^53+1 still decodes exactly", async () => {
    // field 1, varint 2^53 + 1: out of reach of a JS number, so protobufjs gives a Long
    let value = 2n ** 53n + 1n;
    const bytes = [0x08];
    while (value >= 0x80n) {
      bytes.push(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    bytes.push(Number(value));
    const script = `
      const protobuf = require('protobufjs');
      const readers = ['uint32', 'int64', 'string'].map((name) => protobuf.Reader.prototype[name]);
      const Long = protobuf.util.Long;
      const client = require('kiteq-ts');
      const T = protobuf.Type.fromJSON('T', { fields: { v: { type: 'int64', id: 1 } } });
      const v = T.decode(Buffer.from('${Buffer.from(bytes).toString('hex')}', 'hex')).v;
      console.log(JSON.stringify({
        client: typeof client.KiteQClient,
        decoded: String(v),
        long: protobuf.util.Long === Long,
        readers: ['uint32', 'int64', 'string'].every((name, i) => protobuf.Reader.prototype[name] === readers[i]),
      }));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: project });
    assert.deepEqual(JSON.parse(stdout), {
      client: 'function',
      decoded: '9007199254740993',
      long: true,
      readers: true,
    });
  });

  it("compiles the README's client example with tsc --strict, moduleResolution node and nodenext, CommonJS and ES module", async function () {
    this.timeout(120_000); // two tsc runs, each checking @types/node and the package's declarations
    const example = readmeExample();
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'example.ts'), example);
    writeFileSync(join(project, 'src', 'example.mts'), example);
    await tsc(project, [
      '--module',
      'commonjs',
      '--moduleResolution',
      'node',
      '--outDir',
      'out-node',
      'src/example.ts',
    ]);
    await tsc(project, [
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--outDir',
      'out-next',
      'src/example.ts',
      'src/example.mts',
    ]);
    assert.ok(existsSync(join(project, 'out-node', 'example.js')));
    assert.ok(existsSync(join(project, 'out-next', 'example.mjs')));
  });

  it("runs the compiled ES-module example against the package's own kiteq-server and conf/groups.yaml", async function () {
    assert.ok(existsSync(join(project, 'out-next', 'example.mjs')), 'the compile test ran first');
    const address = `127.0.0.1:${await freePort()}`;
    mkdirSync(join(project, 'conf'));
    // the example's registry: file://conf/registry.yaml, from the project's directory
    const registry = writeRegistryFile(
      join(project, 'conf'),
      [{ address, topics: ['trade'] }],
      [directBinding('s-mc-service', 'trade', 'pay-succ'), directBinding('s-bench', 'trade', 'pay-succ')],
    );
    broker = await startBrokerProcess(
      [
        '--bind',
        address,
        '--registry',
        `file://${registry}`,
        '--store',
        'memory://',
        '--topics',
        'trade',
        '--groups',
        join(installed, 'conf', 'groups.yaml'),
      ],
      {},
      20_000,
      join(installed, 'dist', 'server', 'cli.js'),
    );
    const example = spawn(process.execPath, [join('out-next', 'example.mjs')], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(example);
    const out = await outputMatching(example, /\{"order":42\}/, 20_000);
    assert.match(out, /^[0-9a-f]{32} \{"order":42\}$/m, 'the consumer printed the message id and body');
  });

  it('runs kiteq-bench compare without amqplib and nats, saying how to install them', async function () {
    assert.ok(broker, 'the broker of the previous test is running');
    const { stdout, stderr } = await run(
      join(project, 'node_modules', '.bin', 'kiteq-bench'),
      ['compare', '--registry', 'file://conf/registry.yaml', '--messages', '200', '-k', '1', '-c', '10', '--json'],
      { cwd: project },
    );
    for (const name of ['amqplib', 'nats'])
      assert.match(stderr, new RegExp(`${name} is not installed .*npm install ${name}`), stderr);
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.equal(result['kiteq-ts'].lost, 0);
    assert.match(result['rabbitmq (quorum)'].unavailable, /npm install amqplib/);
    assert.match(result['nats jetstream'].unavailable, /npm install nats/);
  });
});
