// A gateway request's body, bounded by the broker's --max-body-bytes (the native protocol's limit
// on a packet body): past it the answer is 413 and the connection is closed, so the rest of an
// oversized body is never read (doc/http-gateway.md "Errors").
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './gateway-error';

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(413, 'payload_too_large', `body over the broker's limit of ${maxBytes} bytes`, {
    connection: 'close',
  });
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
