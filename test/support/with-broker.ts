// Mocha hooks for a spec that runs against one in-process broker (like nats.js' setup()/cleanup()):
// starts the broker before the suite (or before each test), closes every client the spec made
// through it, then stops the broker and removes its store. Specs only say what they need.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Binding } from '../../binding/binding';
import { type ClientOptions, KiteQClient } from '../../client';
import type { Broker, BrokerOptions } from '../../server/broker';
import type { BrokerConfig } from '../../server/config';
import { startBroker, tempDir, type TestBroker } from './broker';
import { freshTestDatabase, type TestDatabase } from './mariadb';
import { RawClient } from './raw-client';

/** The store a fixture's broker runs on: memory://, file:// in a temp dir, mysql:// on a fresh database set. */
export type BrokerStoreKind = 'memory' | 'file' | 'mysql';

export const BROKER_STORE_KINDS: readonly BrokerStoreKind[] = ['memory', 'file', 'mysql'];

export interface BrokerSetup {
  bindings: Binding[];
  topics?: string[];
  config?: Partial<BrokerConfig>;
  brokerOptions?: BrokerOptions;
  /** default memory */
  store?: BrokerStoreKind;
}

/** A client of the fixture's broker: registry filled in, secret key "k" unless given. */
export type FixtureClientOptions = Omit<ClientOptions, 'registry' | 'secretKey'> & { secretKey?: string };

/** Read its fields inside hooks and tests, not at describe time: the broker starts in a hook. */
export interface BrokerFixture {
  readonly broker: Broker;
  /** host:port it listens on */
  readonly address: string;
  /** the file registry holding it and the bindings */
  readonly registryUri: string;
  /** the mysql database set when `store: 'mysql'` */
  readonly database: TestDatabase | undefined;
  /** a client of this broker, not started; closed after the test (or the suite, if made in `before`) */
  client(options: FixtureClientOptions): KiteQClient;
  /** client() and start() */
  startClient(options: FixtureClientOptions): Promise<KiteQClient>;
  /** a raw-protocol connection to this broker, closed like client() */
  raw(localAddress?: string): Promise<RawClient>;
}

interface Closable {
  close(): unknown;
}

/**
 * `setup` may be a function, called at each start (e.g. for a clock made fresh per broker).
 * `perTest`: a fresh broker for every test instead of one for the suite.
 */
export function withBroker(setup: BrokerSetup | (() => BrokerSetup), { perTest = false } = {}): BrokerFixture {
  let env: TestBroker | undefined;
  let database: TestDatabase | undefined;
  let storeDir: string | undefined;
  const suiteOwned: Closable[] = [];
  const testOwned: Closable[] = [];
  let inTest = false;

  const track = <T extends Closable>(thing: T): T => {
    (inTest ? testOwned : suiteOwned).push(thing);
    return thing;
  };
  const closeAll = (things: Closable[]) => Promise.all(things.splice(0).map((t) => t.close()));

  async function start(): Promise<void> {
    const options = typeof setup === 'function' ? setup() : setup;
    const store = await storeUri(options.store ?? 'memory');
    env = await startBroker({ ...options, config: { ...(store ? { store } : {}), ...options.config } });
  }

  async function storeUri(kind: BrokerStoreKind): Promise<string | undefined> {
    if (kind === 'file') return `file://${join((storeDir = tempDir('kiteq-store-')), 'store')}`;
    if (kind === 'mysql') return (database = await freshTestDatabase()).uri();
    return undefined;
  }

  async function stop(): Promise<void> {
    await env?.stop();
    env = undefined;
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    storeDir = undefined;
    await database?.drop();
    database = undefined;
  }

  if (perTest) {
    beforeEach(start);
  } else {
    before(start);
  }
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    await closeAll(testOwned);
  });
  if (perTest) afterEach(stop);
  after(async () => {
    await closeAll(suiteOwned);
    await stop();
  });

  const running = (): TestBroker => {
    if (!env) throw new Error('withBroker: the broker is not running (use it inside a hook or a test)');
    return env;
  };
  const fixture: BrokerFixture = {
    get broker() {
      return running().broker;
    },
    get address() {
      return running().address;
    },
    get registryUri() {
      return running().registryUri;
    },
    get database() {
      return database;
    },
    client: (options) => track(new KiteQClient({ secretKey: 'k', ...options, registry: fixture.registryUri })),
    async startClient(options) {
      const client = fixture.client(options);
      await client.start();
      return client;
    },
    async raw(localAddress) {
      return track(await RawClient.connect(fixture.address, localAddress));
    },
  };
  return fixture;
}
