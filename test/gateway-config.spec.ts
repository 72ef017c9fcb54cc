// doc/http-gateway.md, doc/operations.md: the gateway is off unless --gateway (or KITEQ_GATEWAY, or
// the TOML's gateway key) names an address; a group's checkUrl must be an http(s) URL.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../server/cli';
import { loadGroupsFile } from '../server/groups';
import { tempDir } from './support/broker';

describe('gateway - configuration', () => {
  let dir: string;
  before(() => {
    dir = tempDir('kiteq-gateway-config-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const argv = (...extra: string[]) => ['node', 'kiteq-server', '--groups', 'none', ...extra];

  it('is off by default; --gateway and --gateway-idle set it, over the TOML keys gateway and gatewayIdleSeconds', () => {
    const saved = process.env.KITEQ_GATEWAY;
    delete process.env.KITEQ_GATEWAY;
    try {
      const defaults = resolveConfig(argv()).config;
      assert.equal(defaults.gateway, undefined);
      assert.equal(defaults.gatewayIdleSec, 60);
      const toml = join(dir, 'cluster.toml');
      writeFileSync(
        toml,
        '[clusters.gw]\nenv = "dev"\ngateway = "127.0.0.1:13802"\ngatewayIdleSeconds = 30\n[zookeeper.dev]\nhosts = "localhost:2181"\n',
      );
      const fromToml = resolveConfig(argv('--config', toml, '--cluster', 'gw')).config;
      assert.equal(fromToml.gateway, '127.0.0.1:13802');
      assert.equal(fromToml.gatewayIdleSec, 30);
      const fromFlags = resolveConfig(
        argv('--config', toml, '--cluster', 'gw', '--gateway', '9000', '--gateway-idle', '5'),
      ).config;
      assert.equal(fromFlags.gateway, '9000');
      assert.equal(fromFlags.gatewayIdleSec, 5);
      process.env.KITEQ_GATEWAY = '0.0.0.0:8080';
      assert.equal(resolveConfig(argv()).config.gateway, '0.0.0.0:8080');
      writeFileSync(toml, '[clusters.gw]\ngateway = "not an address"\n');
      assert.throws(() => resolveConfig(argv('--config', toml, '--cluster', 'gw')), /clusters\.gw\.gateway/);
    } finally {
      if (saved === undefined) delete process.env.KITEQ_GATEWAY;
      else process.env.KITEQ_GATEWAY = saved;
    }
  });

  it('reads checkUrl from the groups file and refuses anything but an http(s) URL', () => {
    const file = join(dir, 'groups.yaml');
    writeFileSync(file, 'groups:\n  - groupId: p\n    secretKey: k\n    checkUrl: https://shop.internal/check\n');
    assert.equal(loadGroupsFile(file)[0].checkUrl, 'https://shop.internal/check');
    for (const bad of ['ftp://x/check', 'not a url', '42']) {
      writeFileSync(file, `groups:\n  - groupId: p\n    secretKey: k\n    checkUrl: ${bad}\n`);
      assert.throws(() => loadGroupsFile(file), /groups\[0\]\.checkUrl must be an http:\/\/ or https:\/\/ URL/);
    }
  });
});
