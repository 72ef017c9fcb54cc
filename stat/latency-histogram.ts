// Latency histograms (doc/architecture.md §10, §12 "no latency figures anywhere"): HDR in microseconds, read
// out in milliseconds. recordMs() writes one slot of a preallocated array: no allocation per message.
import * as hdr from 'hdr-histogram-js';

export interface LatencyPercentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const MICROS_PER_MS = 1000;

/** The fields of hdr-histogram-js's JsHistogram that its value → slot mapping reads. */
interface SlotMath {
  countsArrayIndex(value: number): number;
  readonly subBucketHalfCountMagnitude: number;
  readonly unitMagnitude: number;
  readonly subBucketHalfCount: number;
}

/**
 * Gives `histogram` a value → slot mapping in integer arithmetic (Math.clz32 and shifts) for values
 * below 2^31, the same slots as the library's, which computes them with Math.log2 and two Math.pow
 * per value: ~1k instructions per record, two records per message (doc/scaling.md, CPU per message).
 * Recording (bounds, min / max, totals) stays the library's own.
 */
export function withIntegerSlots<T>(histogram: T): T {
  const h = histogram as unknown as SlotMath;
  const library = h.countsArrayIndex.bind(h);
  const half = h.subBucketHalfCountMagnitude;
  const unit = h.unitMagnitude;
  const halfCount = h.subBucketHalfCount;
  const bucketSlots = 2 ** half;
  h.countsArrayIndex = (value: number): number => {
    if (!(value >= 0 && value < 0x80000000)) return library(value);
    const bucket = Math.max(31 - Math.clz32(value) - half - unit, 0);
    const subBucket = value >>> (bucket + unit);
    return (bucket + 1) * bucketSlots + (subBucket - halfCount);
  };
  return histogram;
}

export class LatencyHistogram {
  private readonly histogram = withIntegerSlots(
    hdr.build({
      lowestDiscernibleValue: 1, // 1 µs
      highestTrackableValue: 10 * 60 * 1_000_000, // 10 min; larger values are clamped
      numberOfSignificantValueDigits: 2,
      autoResize: false,
      useWebAssembly: false,
    }),
  );
  private readonly maxMicros = 10 * 60 * 1_000_000;

  recordMs(ms: number): void {
    const micros = Math.round(ms * MICROS_PER_MS);
    this.histogram.recordValue(micros < 0 ? 0 : micros > this.maxMicros ? this.maxMicros : micros);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** p50/p99/p999 and max in ms since the start (or the last reset). */
  percentiles(): LatencyPercentiles {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, p50: 0, p99: 0, p999: 0, max: 0 };
    const ms = (micros: number) => micros / MICROS_PER_MS;
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  reset(): void {
    this.histogram.reset();
  }
}
