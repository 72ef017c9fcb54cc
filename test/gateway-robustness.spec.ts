// doc/http-gateway.md: the gateway serves HTTPS with the broker's TLS files, survives junk on its
// port, and follows a reload of the groups file at the next request.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { directBinding } from '../binding/binding';
import type { GroupConfig } from '../server/groups';
import { tempDir } from './support/broker';
import { gatewayPublish } from './support/gateway-http';
import { makeSelfSignedCert } from './support/tls-cert';
import { withBroker } from './support/with-broker';

const PAY = directBinding('s-mc', 'trade', 'pay-succ');

describe('gateway - HTTPS with the broker TLS files', function () {
  this.timeout(20_000);
  const dir = tempDir('kiteq-gateway-tls-');
  const { cert, key } = makeSelfSignedCert(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = withBroker({ bindings: [PAY], config: { gateway: '127.0.0.1:0', tlsCert: cert, tlsKey: key } });

  it('publishes over HTTPS and refuses plain HTTP on the same port', async () => {
    const [host, port] = env.broker.gatewayAddress.split(':');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host,
          port: Number(port),
          method: 'POST',
          path: '/v1/topics/trade/messages?type=pay-succ',
          ca: readFileSync(cert),
          headers: { authorization: `Basic ${Buffer.from('p-any:k').toString('base64')}` },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('error', reject);
      req.end('over tls');
    });
    assert.equal(status, 201);
    await assert.rejects(gatewayPublish(`http://${env.broker.gatewayAddress}`, 'p-any:k', 'trade', 'pay-succ', 'x'));
  });
});

describe('gateway - junk and reloads', function () {
  this.timeout(20_000);
  let groups: GroupConfig[] = [{ groupId: 'p-http', secretKey: 'old' }];
  const env = withBroker({
    bindings: [PAY],
    config: { gateway: '127.0.0.1:0', groups },
    brokerOptions: { loadConfig: () => ({ ...env.broker.config, groups }) },
  });
  const base = () => `http://${env.broker.gatewayAddress}`;

  it('answers junk bytes 400 and closes that connection; the gateway serves on', async () => {
    const [host, port] = env.broker.gatewayAddress.split(':');
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), host, () => socket.end('\x00\x01GARBAGE /// HTTP/9\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.once('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.equal((await gatewayPublish(base(), 'p-http:old', 'trade', 'pay-succ', 'x')).status, 201);
  });

  it('checks the next request against the groups of a reload', async () => {
    groups = [{ groupId: 'p-http', secretKey: 'new' }];
    const result = await env.broker.reload();
    assert.ok(JSON.stringify(result).includes('groups'), JSON.stringify(result));
    assert.equal((await gatewayPublish(base(), 'p-http:old', 'trade', 'pay-succ', 'x')).status, 401);
    assert.equal((await gatewayPublish(base(), 'p-http:new', 'trade', 'pay-succ', 'x')).status, 201);
  });
});
