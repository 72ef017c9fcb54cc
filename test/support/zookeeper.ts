// Real ZooKeeper servers for tests (doc/architecture.md §11): Debian's jar, a temporary dataDir, free ports,
// readiness by four-letter words (never a sleep), and no orphans when the test process dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const JAVA_DIR = '/usr/share/java';
// zookeeper.jar's manifest Class-Path names its dependency jars (netty, jute, slf4j-api, …);
// the log4j binding is the only thing we add, so logs land in a file per server.
const CLASSPATH_JARS = ['zookeeper.jar', 'slf4j-log4j12.jar', 'log4j-1.2.jar'];
const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const JVM_FLAGS = [
  '-Xms32m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Dzookeeper.jmx.log4j.disable=true',
];

export interface ZooKeeperOptions {
  /** ZooKeeper's tick; sessions expire after (negotiated timeout), min 2 ticks. Default 200 ms. */
  tickTimeMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** how long to wait for the server to serve. Default 30 s. */
  startTimeoutMs?: number;
}

export type ZooKeeperMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'not serving';

export interface ZooKeeperNode {
  /** myid (1 for a standalone server) */
  readonly id: number;
  readonly port: number;
  /** 127.0.0.1:<port> */
  readonly connectString: string;
  readonly logPath: string;
  /** the java process id while it runs */
  readonly pid: number | undefined;
  /** starts it again on the same dataDir and ports after stop()/kill() */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited */
  stop(): Promise<void>;
  /** sends a signal and resolves once the process has exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server stops answering but its TCP connections stay open */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  /** 'leader' / 'follower' / 'standalone' from the srvr four-letter word */
  mode(): Promise<ZooKeeperMode>;
}

export interface ZooKeeperServer extends ZooKeeperNode {
  /** stops the server and removes its temporary directory */
  stop(): Promise<void>;
}

export interface ZooKeeperEnsemble {
  /** every node: 127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  readonly connectString: string;
  readonly nodes: ZooKeeperNode[];
  /** the node that reports Mode: leader */
  leader(): Promise<ZooKeeperNode>;
  /** waits until `count` nodes serve and one of them leads */
  waitForQuorum(count?: number): Promise<void>;
  /** stops every node and removes the temporary directory */
  stop(): Promise<void>;
}

/** Sends a four-letter word (ruok, srvr, mntr, stat…) and returns the whole answer ('' on error). */
export function fourLetterWord(port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = (text: string) => {
      socket.destroy();
      resolve(text);
    };
    socket.setTimeout(timeoutMs, () => done(''));
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', () => done(''));
  });
}

/** A standalone server on a free port. */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  const classpathJars = checkInstalled();
  const baseDir = mkdtempSync(join(tmpdir(), 'kiteq-zk-'));
  const port = await freePort();
  const node = new JavaZooKeeper(
    1,
    baseDir,
    classpathJars,
    configText(options, baseDir, port, []),
    port,
    options.startTimeoutMs,
  );
  try {
    await node.start();
    await waitFor(
      async () => (await node.mode()) === 'standalone',
      options.startTimeoutMs ?? 30_000,
      () => node.describe(),
    );
  } catch (error) {
    await node.kill('SIGKILL');
    rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
  const stopNode = node.stop.bind(node);
  return Object.assign(node, {
    async stop() {
      await stopNode();
      rmSync(baseDir, { recursive: true, force: true });
    },
  });
}

/** An ensemble of `size` servers on loopback (server.N=127.0.0.1:peer:election), waited for until one leads. */
export async function startEnsemble(size = 3, options: ZooKeeperOptions = {}): Promise<ZooKeeperEnsemble> {
  const classpathJars = checkInstalled();
  const baseDir = mkdtempSync(join(tmpdir(), 'kiteq-zk-ensemble-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => [await freePort(), await freePort(), await freePort()]),
  );
  const servers = ports.map(([, peer, election], i) => `server.${i + 1}=127.0.0.1:${peer}:${election}`);
  // an ensemble elects over several ticks; 200 ms ticks keep it quick but not flaky on 2 cores
  const ensembleOptions = { tickTimeMs: 200, ...options };
  const nodes = ports.map(([client], i) => {
    const dir = join(baseDir, `node${i + 1}`);
    return new JavaZooKeeper(
      i + 1,
      dir,
      classpathJars,
      configText(ensembleOptions, dir, client, servers),
      client,
      options.startTimeoutMs,
    );
  });
  const ensemble: ZooKeeperEnsemble = {
    connectString: nodes.map((n) => n.connectString).join(','),
    nodes,
    async leader() {
      for (const node of nodes) if ((await node.mode()) === 'leader') return node;
      throw new Error(`no ZooKeeper node leads: ${(await Promise.all(nodes.map((n) => n.describe()))).join('; ')}`);
    },
    async waitForQuorum(count = size) {
      await waitFor(
        async () => {
          const modes = await Promise.all(nodes.map((n) => n.mode()));
          return modes.filter((m) => m === 'leader' || m === 'follower').length >= count && modes.includes('leader');
        },
        options.startTimeoutMs ?? 30_000,
        async () => (await Promise.all(nodes.map((n) => n.describe()))).join('; '),
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await ensemble.waitForQuorum();
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
  return ensemble;
}

/** One java process running QuorumPeerMain on its own config and dataDir. */
class JavaZooKeeper implements ZooKeeperNode {
  readonly connectString: string;
  readonly logPath: string;
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly killOnExit = () => {
    this.child?.kill('SIGKILL');
    this.watchdog?.kill('SIGKILL');
  };

  constructor(
    readonly id: number,
    private readonly dir: string,
    private readonly classpathJars: string[],
    private readonly config: string,
    readonly port: number,
    private readonly startTimeoutMs = 30_000,
  ) {
    this.connectString = `127.0.0.1:${port}`;
    this.logPath = join(dir, 'zookeeper.log');
    mkdirSync(join(dir, 'data'), { recursive: true });
    mkdirSync(join(dir, 'conf'), { recursive: true });
    writeFileSync(join(dir, 'data', 'myid'), `${id}\n`);
    writeFileSync(join(dir, 'conf', 'zoo.cfg'), config);
    writeFileSync(join(dir, 'conf', 'log4j.properties'), log4jProperties(this.logPath));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`ZooKeeper node ${this.id} is already running (pid ${this.child.pid})`);
    const classpath = [join(this.dir, 'conf'), ...this.classpathJars].join(':');
    const child = spawn('java', [...JVM_FLAGS, '-cp', classpath, MAIN_CLASS, join(this.dir, 'conf', 'zoo.cfg')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      process.removeListener('exit', this.killOnExit);
      this.watchdog?.kill('SIGKILL');
      this.watchdog = undefined;
    });
    process.on('exit', this.killOnExit);
    this.watchdog = startWatchdog(child.pid!);
    // serving, not just listening: ruok → imok, then srvr names a mode
    await waitFor(
      async () => {
        if (!this.child)
          throw new Error(`ZooKeeper node ${this.id} exited while starting: ${stderr}\n${this.logTail()}`);
        return (await fourLetterWord(this.port, 'ruok')) === 'imok';
      },
      this.startTimeoutMs,
      () => this.describe(),
    );
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.resume();
    const child = this.child;
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.kill('SIGTERM');
    await this.exited;
    clearTimeout(force);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child) return;
    this.child.kill(signal);
    await this.exited;
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async mode(): Promise<ZooKeeperMode> {
    const srvr = await fourLetterWord(this.port, 'srvr');
    const mode = /^Mode: (\w+)/m.exec(srvr)?.[1];
    return (mode as ZooKeeperMode | undefined) ?? 'not serving';
  }

  async describe(): Promise<string> {
    return `node ${this.id} on ${this.connectString} (pid ${this.pid ?? 'none'}): ${await this.mode()}; log ${this.logPath}:\n${this.logTail()}`;
  }

  private logTail(): string {
    if (!existsSync(this.logPath)) return '(no log yet)';
    return readFileSync(this.logPath, 'utf8').split('\n').slice(-15).join('\n');
  }
}

/** Kills the java process when our stdin pipe closes, i.e. when the test process dies even by SIGKILL. */
function startWatchdog(javaPid: number): ChildProcess {
  const watchdog = spawn('sh', ['-c', `read _ignored; kill -KILL ${javaPid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

function checkInstalled(): string[] {
  const jars = CLASSPATH_JARS.map((jar) => join(JAVA_DIR, jar));
  const missing = jars.filter((jar) => !existsSync(jar));
  if (missing.length > 0) {
    throw new Error(
      `ZooKeeper is not installed (missing ${missing.join(', ')}): run "bash build.sh" (apt-get install zookeeper)`,
    );
  }
  const javaFound = (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'java')));
  if (!javaFound)
    throw new Error('java is not on PATH: run "bash build.sh" (apt-get install default-jre-headless zookeeper)');
  return jars;
}

function configText(options: ZooKeeperOptions, dir: string, clientPort: number, servers: string[]): string {
  const tickTimeMs = options.tickTimeMs ?? 200;
  return [
    `tickTime=${tickTimeMs}`,
    `dataDir=${join(dir, 'data')}`,
    `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1',
    `minSessionTimeout=${options.minSessionTimeoutMs ?? tickTimeMs * 2}`,
    `maxSessionTimeout=${options.maxSessionTimeoutMs ?? 60_000}`,
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    // tests do not need durability of ZooKeeper itself, only speed: no fsync, small preallocation
    'forceSync=no',
    'preAllocSize=1024',
    'initLimit=20',
    'syncLimit=10',
    ...servers,
    '',
  ].join('\n');
}

function log4jProperties(logPath: string): string {
  return [
    'log4j.rootLogger=INFO, FILE',
    'log4j.appender.FILE=org.apache.log4j.FileAppender',
    `log4j.appender.FILE.File=${logPath}`,
    'log4j.appender.FILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n',
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`ZooKeeper not ready after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The ensemble node that serves this session (4lw `cons` lists each connection's sid), if any. */
export async function nodeServingSession(
  nodes: ZooKeeperNode[],
  sessionIdHex: string,
): Promise<ZooKeeperNode | undefined> {
  const sid = `sid=0x${sessionIdHex.replace(/^0+/, '')}`;
  for (const node of nodes) if ((await fourLetterWord(node.port, 'cons')).includes(sid)) return node;
  return undefined;
}

/** Whether the server (standalone or leader) still tracks this session (4lw `dump`). */
export async function sessionKnown(node: ZooKeeperNode, sessionIdHex: string): Promise<boolean> {
  const dump = await fourLetterWord(node.port, 'dump');
  if (!dump.includes('SessionTracker'))
    throw new Error(`node ${node.id} did not answer dump: ${JSON.stringify(dump.slice(0, 200))}`);
  return dump.includes(`0x${sessionIdHex.replace(/^0+/, '')}\n`);
}
