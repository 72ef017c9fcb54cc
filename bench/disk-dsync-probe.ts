// The disk's own floor for a durable append at a fixed message rate, with no broker in the way: what
// the file store's publish→deliver latency at that rate cannot beat. Messages of `size` bytes are due
// at `rate`/s; every 1 ms timer tick, the messages due by the next tick are written into zeros on disk
// (as the store does, doc/file-store.md) with O_DSYNC, as one write per batch, and a message's latency
// runs from the time it was due to the time its write (and, in order mode, every earlier write)
// returned; as in `roundtrip --rate`, a message may leave up to one 1 ms tick early. Modes:
//   one      one write in flight at a time (what the file store does)
//   ordered  up to `inFlight` writes at once, each acked once it and every earlier write landed
//   any      up to `inFlight` writes at once, each acked when it lands (would need recovery that
//            skips holes; measured to see whether the disk's stalls are per write or device-wide)
//   npx tsc -p tsconfig.json
//   node dist/bench/disk-dsync-probe.js [mode=one] [rate=5000] [seconds=15] [inFlight=4] [size=600]
// BENCH_DIR picks the filesystem (default: the OS temp dir).
import { closeSync, constants, fsyncSync, openSync, rmSync, write, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LatencyRecorder } from './latency';

type Mode = 'one' | 'ordered' | 'any';
const FILE_BYTES = 64 * 1024 * 1024;

interface Batch {
  due: number[];
  landed: boolean;
}

function preparedFile(file: string): number {
  const zeros = Buffer.alloc(1024 * 1024);
  const fd = openSync(file, 'w');
  for (let i = 0; i < FILE_BYTES / zeros.length; i++) writeSync(fd, zeros);
  fsyncSync(fd);
  closeSync(fd);
  return openSync(file, constants.O_WRONLY | constants.O_DSYNC);
}

async function main(): Promise<void> {
  const mode = (process.argv[2] ?? 'one') as Mode;
  const [rate = 5000, seconds = 15, inFlight = 4, size = 600] = process.argv.slice(3, 7).map(Number);
  if (!['one', 'ordered', 'any'].includes(mode)) throw new Error(`mode must be one, ordered or any, not ${mode}`);
  const file = path.join(process.env.BENCH_DIR ?? tmpdir(), `kiteq-dsync-probe-${process.pid}.bin`);
  const fd = preparedFile(file);
  const data = Buffer.alloc(8 * 1024 * 1024, 7);
  const maxInFlight = mode === 'one' ? 1 : inFlight;
  const latencies = new LatencyRecorder();
  const open: Batch[] = [];
  let pending: number[] = [];
  let writing = 0;
  let offset = 0;
  let made = 0;
  const t0 = performance.now();

  const land = (batch: Batch, now: number) => {
    batch.landed = true;
    if (mode === 'any') {
      for (const due of batch.due) latencies.recordMs(now - due);
      open.splice(open.indexOf(batch), 1);
      return;
    }
    while (open.length > 0 && open[0]!.landed) for (const due of open.shift()!.due) latencies.recordMs(now - due);
  };
  const startWrites = () => {
    while (pending.length > 0 && writing < maxInFlight) {
      const batch: Batch = { due: pending, landed: false };
      pending = [];
      const bytes = Math.min(data.length, batch.due.length * size);
      if (offset + bytes > FILE_BYTES) offset = 0;
      open.push(batch);
      writing++;
      write(fd, data, 0, bytes, offset, (error) => {
        if (error) throw error;
        writing--;
        land(batch, performance.now());
        startWrites();
      });
      offset += bytes;
    }
  };

  await new Promise<void>((done) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      // as the roundtrip pacer does: a message may leave up to one tick early, and its latency runs
      // from the earlier of its due time and now
      const due = Math.floor(((elapsed + 1) * rate) / 1000);
      const now = t0 + elapsed;
      for (; made < due; made++) pending.push(Math.min(now, t0 + (made * 1000) / rate));
      startWrites();
      if (elapsed < seconds * 1000) setTimeout(tick, 1);
      else done();
    };
    tick();
  });
  while (writing > 0 || pending.length > 0) {
    startWrites();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  closeSync(fd);
  rmSync(file, { force: true });
  const { p50, p90, p99, p999, max, count } = latencies.summary();
  const ms = (value: number) => +value.toFixed(2);
  console.log(
    JSON.stringify({
      mode,
      rate,
      seconds,
      inFlight: maxInFlight,
      size,
      messages: count,
      p50ms: ms(p50),
      p90ms: ms(p90),
      p99ms: ms(p99),
      p999ms: ms(p999),
      maxMs: ms(max),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
