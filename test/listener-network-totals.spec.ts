// server/listener.ts: /stat's network totals count every byte the client sockets moved, and the
// per-second read of them looks only at sockets that read since the last one, not at every open
// connection (doc/scaling.md, Idle: 10,000 idle sockets read twice a second stalled the broker).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ClientListener } from '../server/listener';
import { silentLogger } from '../server/logger';

describe('client listener - network totals', () => {
  let listener: ClientListener;
  const clients: Socket[] = [];
  const served: Socket[] = [];
  /** reads of bytesRead on the broker's sockets */
  let looks = 0;

  beforeEach(async () => {
    looks = 0;
    listener = new ClientListener({
      config: { bind: '127.0.0.1:0', maxConnections: 100, authTimeoutMs: 5000 },
      log: silentLogger(),
      onSocket: (socket) => {
        served.push(socket);
        let getter: (() => unknown) | undefined;
        for (
          let p = Object.getPrototypeOf(socket) as object | null;
          p && !getter;
          p = Object.getPrototypeOf(p) as object
        )
          getter = Object.getOwnPropertyDescriptor(p, 'bytesRead')?.get;
        Object.defineProperty(socket, 'bytesRead', { get: () => (looks++, getter!.call(socket) as number) });
        socket.on('data', (chunk: Buffer) => socket.write(Buffer.concat([chunk, chunk]))); // echoes twice the bytes
      },
    });
    await listener.listen();
  });

  afterEach(() => {
    for (const socket of clients.splice(0)) socket.destroy();
    served.length = 0;
    listener.close();
  });

  async function open(): Promise<Socket> {
    const [host, port] = listener.address.split(':');
    const socket = connect({ host, port: Number(port) });
    clients.push(socket);
    await once(socket, 'connect');
    return socket;
  }

  async function roundTrip(socket: Socket, bytes: number): Promise<void> {
    socket.write(Buffer.alloc(bytes, 1));
    let got = 0;
    while (got < bytes * 2) got += ((await once(socket, 'data')) as [Buffer])[0].length;
  }

  it('counts every byte read and written, on open and on closed sockets', async () => {
    const a = await open();
    const b = await open();
    await roundTrip(a, 100);
    await roundTrip(b, 7);
    assert.deepEqual(listener.networkTotals(), { readBytes: 107, writeBytes: 214 });
    await roundTrip(a, 3);
    b.destroy();
    await once(served[1]!, 'close');
    assert.deepEqual(listener.networkTotals(), { readBytes: 110, writeBytes: 220 });
  });

  it('does not look at sockets that read nothing since the last call', async () => {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => open()));
    await Promise.all(sockets.map((s) => roundTrip(s, 10)));
    listener.networkTotals();
    looks = 0;
    for (let i = 0; i < 5; i++) listener.networkTotals();
    assert.equal(looks, 0, 'idle sockets were read');
    await roundTrip(sockets[0]!, 10);
    assert.equal(listener.networkTotals().readBytes, 510);
    assert.equal(looks, 1, 'only the socket that read');
  });
});
