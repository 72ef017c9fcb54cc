// `kiteq-bench scale` in miniature: a sweep of a tiny dimension starts its own broker child
// process per point and reports every point with the broker's CPU and RSS, beside the baseline;
// the idle dimension measures heartbeats on authenticated connections; the report draws them.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { parseRegistryYaml } from '../binding/file-registry';
import { writeBenchConf } from '../bench/bench-conf';
import { numberedNames } from '../bench/group-receipts';
import { loadGroupsFile } from '../server/groups';
import { tempDir } from './support/broker';
import { pointsOf, runScale, workloadOf, type ScaleOptions } from '../bench/scale';
import { renderScaleHtml, scaleTable } from '../bench/scale-report';

describe('bench - kiteq-bench scale', function () {
  this.timeout(120_000);
  let workDir: string;
  beforeEach(() => (workDir = tempDir('kiteq-scale-test-')));
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  const options = (over: Partial<ScaleOptions>): ScaleOptions => ({
    dimensions: ['topics'],
    store: 'memory',
    messages: 300,
    warmupMessages: 50,
    maxBacklog: 1_000_000,
    maxIdle: 10_000,
    heartbeatWindowMs: 1500,
    drainTimeoutMs: 5000,
    workDir,
    ...over,
  });

  it('sweeps topics 1 and 3 on brokers of its own: every message delivered, broker CPU and RSS per point, 1 the baseline', async () => {
    const points = await runScale(options({ values: [1, 3] }));
    assert.deepEqual(
      points.map((p) => [p.value, p.topics, p.baseline, p.acked, p.lost, p.duplicates, p.error]),
      [
        [1, 1, true, 300, 0, 0, undefined],
        [3, 3, false, 300, 0, 0, undefined],
      ],
    );
    for (const p of points) {
      assert.ok(p.deliveredPerSec > 0 && p.brokerUsPerMsg > 0 && p.benchUsPerMsg > 0, JSON.stringify(p));
      assert.ok(p.brokerPeakRssMb! > 20 && p.startMs > 0, JSON.stringify(p));
    }
    const table = scaleTable(points);
    assert.match(table, /^topics\n/);
    assert.match(table, /\n1 \(base\) +8×25 /);
    const html = renderScaleHtml(points, { title: 'scale', generatedAt: 'now', notes: ['kiteq-bench scale'] });
    assert.equal((html.match(/<svg /g) ?? []).length, 4, 'throughput, p99, CPU and RSS');
    assert.equal((html.match(/<circle /g) ?? []).length, 2 * (1 + 1 + 2 + 2), 'a marker per point and series');
  });

  it('holds 40 authenticated idle connections open through a run and reports their heartbeat round trips', async () => {
    const [point] = await runScale(options({ dimensions: ['idle'], values: [40] }));
    assert.equal(point.error, undefined);
    assert.equal(point.lost, 0);
    assert.ok(point.heartbeatCount! >= 3 && point.heartbeatP99Ms! > 0, JSON.stringify(point));
    assert.ok(point.brokerRssMb! > 20);
  });

  it('writes a registry and groups file for 150 groups on 3 topics that the broker reads back whole', () => {
    const groups = numberedNames('s-bench', 150);
    const files = writeBenchConf(workDir, {
      address: '127.0.0.1:1',
      topics: numberedNames('trade', 3),
      messageType: 'pay-succ',
      producerGroup: 'p-bench',
      consumerGroups: groups,
      secretKey: 'k',
    });
    // shared lists written as YAML aliases would pass 100 aliases, which the reader refuses
    const registry = parseRegistryYaml(readFileSync(files.registryPath, 'utf8'), (what, error) => {
      throw new Error(`${what}: ${error.message}`);
    });
    assert.equal(registry.bindings.length, 450);
    const admitted = loadGroupsFile(files.groupsPath);
    assert.deepEqual(admitted[150].subscribe, ['trade', 'trade-1', 'trade-2']);
    assert.equal(admitted.length, 151);
  });

  it('shapes each point from the default workload, one dimension changed', () => {
    assert.deepEqual(workloadOf('size', 1 << 20), {
      producers: 8,
      inFlight: 4, // 32 MiB in flight
      messageSize: 1 << 20,
      groups: 1,
      topics: 1,
      idle: 0,
      backlog: 0,
    });
    assert.equal(workloadOf('size', 128).inFlight, 25);
    assert.deepEqual([workloadOf('producers', 2000).inFlight, workloadOf('producers', 100).inFlight], [1, 2]);
    assert.deepEqual(
      pointsOf({ dimensions: ['backlog'], maxBacklog: 100_000, maxIdle: 0, store: 'file' }).map((p) => p.value),
      [0, 100_000],
    );
  });
});
