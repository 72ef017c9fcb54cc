// `kiteq-bench client-cost` (bench/client-cost.ts): a producer and a consumer process against a
// memory-store broker child report the client library's CPU per message, side by side, for each
// build given, in turn (doc/scaling.md "Client CPU per message").
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { clientCostSummary, OWN_CLIENT_LIB, runClientCost } from '../bench/client-cost';

describe('bench - client-cost', function () {
  this.timeout(120_000);

  it("reports each side's CPU per message for every build and round, interleaved", async () => {
    const seen: string[] = [];
    const runs = await runClientCost({
      clientLibs: [OWN_CLIENT_LIB, `${OWN_CLIENT_LIB}/index.js`],
      rounds: 2,
      size: 512,
      inFlight: 20,
      warmup: 500,
      messages: 3000,
      workDir: tmpdir(),
      onRun: (run) => seen.push(`${run.round} ${run.clientLib}`),
    });
    assert.deepEqual(seen, [
      `1 ${OWN_CLIENT_LIB}`,
      `1 ${OWN_CLIENT_LIB}/index.js`,
      `2 ${OWN_CLIENT_LIB}`,
      `2 ${OWN_CLIENT_LIB}/index.js`,
    ]);
    for (const run of runs) {
      assert.ok(run.producerUs > 0 && run.consumerUs > 0, JSON.stringify(run));
      assert.ok(Math.abs(run.clientUs - (run.producerUs + run.consumerUs)) <= 0.011, JSON.stringify(run));
      assert.ok(run.brokerUs >= 0 && run.rate > 0, JSON.stringify(run));
    }
    const summary = clientCostSummary(runs).split('\n');
    assert.equal(summary.length, 2);
    assert.match(summary[1]!, /index\.js: client [\d.]+ µs\/msg .* ×[\d.]+ \| broker/);
  });
});
