// stat/latency-histogram.ts: the integer value → slot mapping puts every value where hdr-histogram-js's
// own mapping does, so /stat and /metrics percentiles are the library's (doc/architecture.md §10).
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram, withIntegerSlots } from '../stat/latency-histogram';

const config = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 10 * 60 * 1_000_000,
  numberOfSignificantValueDigits: 2,
  autoResize: false,
  useWebAssembly: false,
} as const;

type Indexed = { countsArrayIndex(value: number): number };

describe('latency histogram - integer slots', () => {
  it('maps every value to the slot the library maps it to', () => {
    const library = hdr.build(config) as unknown as Indexed;
    const ours = withIntegerSlots(hdr.build(config)) as unknown as Indexed;
    const values: number[] = [];
    for (let v = 0; v < 70_000; v++) values.push(v);
    for (let k = 1; k < 31; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    let seed = 1;
    for (let i = 0; i < 100_000; i++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      values.push(seed % config.highestTrackableValue);
    }
    for (const v of values) assert.equal(ours.countsArrayIndex(v), library.countsArrayIndex(v), `value ${v}`);
  });

  it('reports the same percentiles as the library for the same values', () => {
    const library = hdr.build(config);
    const ours = new LatencyHistogram();
    for (let i = 1; i <= 20_000; i++) {
      const micros = (i * 7919) % 3_000_000;
      library.recordValue(micros);
      ours.recordMs(micros / 1000);
    }
    const p = ours.percentiles();
    assert.deepEqual(
      [p.count, p.p50, p.p99, p.p999, p.max],
      [
        library.totalCount,
        library.getValueAtPercentile(50) / 1000,
        library.getValueAtPercentile(99) / 1000,
        library.getValueAtPercentile(99.9) / 1000,
        library.maxValue / 1000,
      ],
    );
  });
});
