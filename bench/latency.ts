// Latency recording for the bench: an HDR histogram in microseconds, read out in milliseconds, so
// sub-millisecond latencies keep their precision and a long tail costs no memory.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary, PercentilePoint } from './result';

/** Percentiles drawn on the report's latency curve. */
export const CURVE_PERCENTILES = Object.freeze([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]);

const MICROS_PER_MS = 1000;

export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1, // 1 µs
    highestTrackableValue: 60 * 60 * 1_000_000, // 1 h; autoResize covers anything longer
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });

  /** Records one latency in milliseconds (fractions kept to the microsecond). Negative counts as 0. */
  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * MICROS_PER_MS)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The latency at a percentile (0–100), in ms. */
  percentileMs(percentile: number): number {
    if (this.histogram.totalCount === 0) return 0;
    if (percentile >= 100) return this.histogram.maxValue / MICROS_PER_MS;
    // A percentile is read as its bucket's upper edge, which can pass the exact max: clamp it.
    return Math.min(this.histogram.getValueAtPercentile(percentile), this.histogram.maxValue) / MICROS_PER_MS;
  }

  summary(): LatencySummary {
    return {
      p50: this.percentileMs(50),
      p90: this.percentileMs(90),
      p99: this.percentileMs(99),
      p999: this.percentileMs(99.9),
      max: this.percentileMs(100),
      count: this.histogram.totalCount,
    };
  }

  curve(percentiles: readonly number[] = CURVE_PERCENTILES): PercentilePoint[] {
    return percentiles.map((percentile) => ({ percentile, ms: this.percentileMs(percentile) }));
  }
}
