// Micro-benchmark of protocol/frame-decoder.ts (doc/protocol.md "Frame decoding cost"): many small
// frames in one chunk (the common case), and one large frame fed in pieces of a given size.
//   node dist/bench/frame-decoder.js [frameKiB...]
import { CmdType } from '../protocol/commands';
import { FrameDecoder } from '../protocol/frame-decoder';
import { encodePacket } from '../protocol/packet-header';

function msPer(run: () => void, minMs = 300): number {
  run(); // warm-up
  let n = 0;
  const start = performance.now();
  do {
    run();
    n++;
  } while (performance.now() - start < minMs);
  return (performance.now() - start) / n;
}

function smallFramesInOneChunk(): void {
  const frame = encodePacket(1, CmdType.STRING_MESSAGE, Buffer.alloc(512, 1));
  const chunk = Buffer.concat(Array.from({ length: 120 }, () => frame)); // ~64 KiB, as a socket read
  const decoder = new FrameDecoder();
  let frames = 0;
  const ms = msPer(() => {
    for (let i = 0; i < 100; i++) decoder.push(chunk, () => frames++);
  });
  console.log(`120 frames of 512 B in one 64 KiB chunk: ${((ms * 1e6) / (100 * 120)).toFixed(1)} ns per frame`);
}

function streamedChunks(): void {
  // 64 KiB reads of back-to-back 512 B frames: most reads end inside a frame.
  const frame = encodePacket(1, CmdType.STRING_MESSAGE, Buffer.alloc(512, 1));
  const stream = Buffer.concat(Array.from({ length: 4000 }, () => frame));
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 65_000) chunks.push(stream.subarray(at, at + 65_000));
  const decoder = new FrameDecoder();
  let frames = 0;
  const ms = msPer(() => {
    for (const chunk of chunks) decoder.push(chunk, () => frames++);
  });
  console.log(
    `4000 frames of 512 B in 65,000 B reads (frames cross reads): ${((ms * 1e6) / 4000).toFixed(1)} ns per frame`,
  );
}

function largeFrameInPieces(frameBytes: number, piece: number): void {
  const packet = encodePacket(1, CmdType.BYTES_MESSAGE, Buffer.alloc(frameBytes - 19, 2));
  const pieces: Buffer[] = [];
  for (let at = 0; at < packet.length; at += piece) pieces.push(Buffer.from(packet.subarray(at, at + piece)));
  const decoder = new FrameDecoder(4 * 1024 * 1024);
  let frames = 0;
  const ms = msPer(
    () => {
      for (const p of pieces) decoder.push(p, () => frames++);
    },
    piece === 1 ? 0 : 300,
  );
  console.log(
    `${frameBytes / 1024} KiB frame in ${piece} B pieces: ${ms.toFixed(2)} ms per frame, ${((ms * 1e6) / pieces.length).toFixed(0)} ns per piece`,
  );
}

const sizesKiB = process.argv.slice(2).map(Number);
smallFramesInOneChunk();
streamedChunks();
for (const kib of sizesKiB.length > 0 ? sizesKiB : [64, 1024]) {
  largeFrameInPieces(kib * 1024, 65_536);
  largeFrameInPieces(kib * 1024, 1);
}
