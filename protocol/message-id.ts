// Message ids drawn by a producer: the client's builder and the HTTP gateway for a publish without
// a Kiteq-Message-Id (doc/http-gateway.md).
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids, drawn 256 ids at a time (as randomUUID does); a cache of entropy, not state
 * anything depends on. One hex string per id: randomUUID plus removing its dashes made three.
 */
const ID_BYTES = 16;
const entropy = { bytes: Buffer.allocUnsafe(ID_BYTES * 256), used: ID_BYTES * 256 };

/** A UUID v4 as 32 hex characters (doc/architecture.md §2). */
export function newMessageId(): string {
  const { bytes } = entropy;
  if (entropy.used + ID_BYTES > bytes.length) {
    randomFillSync(bytes);
    entropy.used = 0;
  }
  const at = entropy.used;
  entropy.used += ID_BYTES;
  bytes[at + 6] = (bytes[at + 6] & 0x0f) | 0x40; // version 4 (RFC 9562 §5.4)
  bytes[at + 8] = (bytes[at + 8] & 0x3f) | 0x80; // variant 10
  return bytes.toString('hex', at, at + ID_BYTES);
}
