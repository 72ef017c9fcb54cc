// The bench message: its intended send time, id and run travel in the first 16 bytes, so the
// consumer measures publish→deliver latency and finds duplicates, losses and strays by id alone.
//   [0, 8)   float64 BE  intended send time, ms on the process clock (nowMs)
//   [8, 12)  uint32 BE   message id, 0..N-1 in send order within its run
//   [12, 16) uint32 BE   run id, drawn at random for every run and phase (warm-up, measured): ids
//                        restart at 0 in each, so a late or redelivered message of another run
//                        is told apart from a receipt of this one
//   [16, S)  filler
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const PAYLOAD_MIN_BYTES = 16;
const FILLER = 0x61; // 'a': compresses like text would, and is visible in a broker's UI

/** Milliseconds with µs fractions; producer and consumer run in one process, so one clock. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A fresh run id (uint32). */
export function newRunId(): number {
  return randomInt(0, 2 ** 32);
}

export function makePayload(id: number, intendedMs: number, size: number, run: number): Buffer {
  // allocUnsafe: a slice of Node's pool under 4 KiB (Buffer.alloc is always its own ArrayBuffer)
  const payload = Buffer.allocUnsafe(Math.max(size, PAYLOAD_MIN_BYTES)).fill(FILLER);
  payload.writeDoubleBE(intendedMs, 0);
  payload.writeUInt32BE(id, 8);
  payload.writeUInt32BE(run, 12);
  return payload;
}

export function readPayload(payload: Uint8Array): { id: number; intendedMs: number; run: number } {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { intendedMs: view.readDoubleBE(0), id: view.readUInt32BE(8), run: view.readUInt32BE(12) };
}
