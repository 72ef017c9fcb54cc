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

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1, // 1 µs
    highestTrackableValue: 10 * 60 * 1_000_000, // 10 min; larger values are clamped
    numberOfSignificantValueDigits: 2,
    autoResize: false,
    useWebAssembly: false,
  });
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
