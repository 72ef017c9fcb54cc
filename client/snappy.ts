// doc/architecture.md §2: header.snappy = true → the body is snappy-compressed; a string body is then the
// base64 of the compressed bytes. The broker passes bodies through; the client (de)compresses.
import * as snappy from 'snappyjs';

export function compressBytes(body: Uint8Array): Buffer {
  return Buffer.from(snappy.compress(Buffer.from(body)));
}

export function uncompressBytes(body: Uint8Array): Buffer {
  return Buffer.from(snappy.uncompress(Buffer.from(body)));
}

export function compressString(body: string): string {
  return compressBytes(Buffer.from(body, 'utf8')).toString('base64');
}

export function uncompressString(body: string): string {
  return uncompressBytes(Buffer.from(body, 'base64')).toString('utf8');
}
