// A TCP proxy between kiteq clients and a broker that reads the broker's frames (FrameDecoder)
// and lets a test decide what each delivery becomes: passed on, dropped, repeated, or preceded by
// other frames (a replay of an earlier delivery). Frames from the clients pass untouched.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { encodePacket, type Frame, FrameDecoder, isMessageCmd } from '../../protocol';

/** The frames to send to the client in place of one delivery (its body is a copy: keep it if needed). */
export type DeliveryRule = (delivery: Frame) => Frame[];

export interface KiteqProxy {
  /** 127.0.0.1:<proxy port>: list it in a registry file in place of the broker */
  readonly address: string;
  close(): Promise<void>;
}

export async function startKiteqProxy(brokerAddress: string, rule: DeliveryRule): Promise<KiteqProxy> {
  const [host, port] = brokerAddress.split(':');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    const decoder = new FrameDecoder();
    upstream.on('data', (chunk: Buffer) => {
      const out: Buffer[] = [];
      try {
        decoder.push(chunk, (frame) => {
          if (!isMessageCmd(frame.cmdType)) return void out.push(encodePacket(frame.opaque, frame.cmdType, frame.body));
          for (const f of rule({ ...frame, body: Buffer.from(frame.body) }))
            out.push(encodePacket(f.opaque, f.cmdType, f.body));
        });
      } catch {
        client.destroy(); // a frame the broker should never send: the test fails on the missing deliveries
        return;
      }
      if (out.length > 0) client.write(Buffer.concat(out));
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port: proxyPort } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${proxyPort}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
