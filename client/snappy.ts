// doc/architecture.md §2: header.snappy = true → the body is snappy-compressed; a string body is then the
// base64 of the compressed bytes. The broker passes bodies through; the client (de)compresses.
// snappyjs answers a Buffer with a Buffer: the bytes are neither copied in nor out.
import * as snappy from 'snappyjs';
import { asBuffer } from '../protocol/messages/proto-reader';

export function compressBytes(body: Uint8Array): Buffer {
  return snappy.compress(asBuffer(body));
}

export function uncompressBytes(body: Uint8Array): Buffer {
  return snappy.uncompress(asBuffer(body));
}

export function compressString(body: string): string {
  return compressBytes(Buffer.from(body, 'utf8')).toString('base64');
}

export function uncompressString(body: string): string {
  return uncompressBytes(Buffer.from(body, 'base64')).toString('utf8');
}
