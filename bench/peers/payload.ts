// The bench message: its intended send time and id travel in the first 12 bytes, so the consumer
// measures publish→deliver latency and finds duplicates and losses by id alone.
//   [0, 8)  float64 BE  intended send time, ms on the process clock (nowMs)
//   [8, 12) uint32 BE   message id, 0..N-1 in send order
//   [12, S) filler
import { performance } from 'node:perf_hooks';

export const PAYLOAD_MIN_BYTES = 12;
const FILLER = 0x61; // 'a': compresses like text would, and is visible in a broker's UI

/** Milliseconds with µs fractions; producer and consumer run in one process, so one clock. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function makePayload(id: number, intendedMs: number, size: number): Buffer {
  // allocUnsafe: a slice of Node's pool under 4 KiB (Buffer.alloc is always its own ArrayBuffer)
  const payload = Buffer.allocUnsafe(Math.max(size, PAYLOAD_MIN_BYTES)).fill(FILLER);
  payload.writeDoubleBE(intendedMs, 0);
  payload.writeUInt32BE(id, 8);
  return payload;
}

export function readPayload(payload: Uint8Array): { id: number; intendedMs: number } {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { intendedMs: view.readDoubleBE(0), id: view.readUInt32BE(8) };
}
