// zk:// registry URIs (doc/architecture.md §3) and a clear failure when ZooKeeper cannot be reached.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { openZkRegistry, parseZkUri } from '../binding/zk';

describe('zk registry - URIs and unreachable ZooKeeper', function () {
  it('accepts zk:// with several servers, a chroot and timeouts', () => {
    assert.deepEqual(parseZkUri('zk://127.0.0.1:2181,127.0.0.1:2182'), {
      connectString: '127.0.0.1:2181,127.0.0.1:2182',
    });
    assert.deepEqual(parseZkUri('zk://zk1:2181,zk2:2181/kiteq-test?sessionTimeoutMs=5000&connectTimeoutMs=3000'), {
      connectString: 'zk1:2181,zk2:2181/kiteq-test',
      sessionTimeoutMs: 5000,
      connectTimeoutMs: 3000,
    });
  });

  it("accepts KiteQ's plain host:port,host:port form", () => {
    assert.deepEqual(parseZkUri('localhost:2181,localhost:2182'), { connectString: 'localhost:2181,localhost:2182' });
  });

  it('refuses a URI without host:port or with an unknown parameter', () => {
    assert.throws(() => parseZkUri('zk://'), /names no server/);
    assert.throws(() => parseZkUri('zk://127.0.0.1'), /not host:port/);
    assert.throws(() => parseZkUri('zk://127.0.0.1:2181?timeout=5'), /unknown parameter "timeout"/);
    assert.throws(() => parseZkUri('zk://127.0.0.1:2181?sessionTimeoutMs=soon'), /positive integer/);
  });

  it('rejects calls with the servers named when no session can be opened in time', async () => {
    // a port that accepts TCP but never speaks ZooKeeper
    const silent = createServer((socket) => socket.resume()); // reads (so it sees our close) but never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const registry = openZkRegistry(`zk://127.0.0.1:${port}?connectTimeoutMs=700`);
    await assert.rejects(
      registry.registerBroker('127.0.0.1:13830', ['trade']),
      /no ZooKeeper session with 127\.0\.0\.1:\d+ within 700 ms/,
    );
    await registry.close();
    await new Promise((resolve) => silent.close(resolve));
  });
});
