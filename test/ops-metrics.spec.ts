// doc/architecture.md §10 /metrics: scraped over real HTTP, parsed as Prometheus text exposition format, and its
// counters move by exactly the number of messages the test sends.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { LabelCap } from '../stat/label-cap';
import { withBroker } from './support/with-broker';
import { countdown } from './support/events';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): # HELP / # TYPE lines, then
 * `name{label="value",...} number` samples. Throws on any line it cannot read.
 */
function parsePrometheusText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), `bad TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
    const m = sampleLine.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      labelPair.lastIndex = 0;
      while (labelPair.lastIndex < m[3].length) {
        const pair = labelPair.exec(m[3]);
        assert.ok(pair, `bad labels in: ${line}`);
        labels[pair[1]] = pair[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    // Go's ParseFloat, which Prometheus uses, takes NaN and ±Inf in any letter case.
    const special = /^([+-]?)(inf|nan)$/i.exec(m[4]);
    const value = special
      ? special[2].toLowerCase() === 'nan'
        ? NaN
        : special[1] === '-'
          ? -Infinity
          : Infinity
      : Number(m[4]);
    assert.ok(special || !Number.isNaN(value), `bad value in: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}

describe('ops - /metrics over HTTP', function () {
  this.timeout(30_000);
  const env = withBroker({ bindings: [directBinding('s-mc', 'trade', 'pay-succ')], config: { http: '127.0.0.1:0' } });

  async function scrape() {
    const res = await fetch(`http://${env.broker.httpAddress}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return parsePrometheusText(await res.text());
  }

  it('parses as Prometheus text and counts exactly the messages sent and acked', async () => {
    const n = 25;
    const acked = countdown(n, 10_000, 'consumed messages');
    const consumer = env.client({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: () => (acked.tick(), true),
    });
    const producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'] });
    await Promise.all([consumer.start(), producer.start()]);

    const before = await scrape();
    assert.equal(before.types.get('kiteq_messages_received_total'), 'counter');
    assert.equal(before.types.get('kiteq_messages_acked_total'), 'counter');
    assert.equal(before.types.get('kiteq_backlog_messages'), 'gauge');
    for (let i = 0; i < n; i++)
      await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m${i}` }));
    await acked.done;
    // The ack settles a moment after the consumer's listener returns: wait for the counter, not a sleep.
    const deadline = Date.now() + 5000;
    let after = await scrape();
    while (
      valueOf(after.samples, 'kiteq_messages_acked_total', { topic: 'trade', group: 's-mc' }) < n &&
      Date.now() < deadline
    )
      after = await scrape();

    const delta = (name: string, labels: Record<string, string>) =>
      valueOf(after.samples, name, labels) - valueOf(before.samples, name, labels);
    assert.equal(delta('kiteq_messages_received_total', { topic: 'trade' }), n);
    assert.equal(delta('kiteq_messages_stored_total', { topic: 'trade' }), n);
    assert.equal(delta('kiteq_messages_delivered_total', { topic: 'trade', group: 's-mc' }), n);
    assert.equal(delta('kiteq_messages_acked_total', { topic: 'trade', group: 's-mc' }), n);
    assert.equal(delta('kiteq_messages_failed_total', { topic: 'trade', group: 's-mc' }), 0);
    assert.equal(delta('kiteq_messages_dead_lettered_total', { topic: 'trade' }), 0);
    assert.equal(valueOf(after.samples, 'kiteq_connections', {}), 2);
    for (const name of ['kiteq_publish_to_store_ack_seconds', 'kiteq_publish_to_deliver_seconds']) {
      assert.deepEqual(
        after.samples.filter((s) => s.name === name).map((s) => s.labels.quantile),
        ['0.5', '0.99', '0.999'],
        name,
      );
    }
    // Each message was timed once on each path, below the millisecond: a local store-ack takes well
    // under 1 ms, and whole-ms timestamps (Date.now) read it as 0.
    const stat = (await (await fetch(`http://${env.broker.httpAddress}/stat`)).json()) as {
      kiteq_ts: { latency_ms: Record<string, { count: number; p50: number }> };
    };
    for (const path of ['publish_to_store_ack', 'publish_to_deliver']) {
      assert.equal(stat.kiteq_ts.latency_ms[path]!.count, n, path);
      assert.ok(stat.kiteq_ts.latency_ms[path]!.p50 > 0, `${path} p50 ${stat.kiteq_ts.latency_ms[path]!.p50} ms`);
    }
    assert.ok(valueOf(after.samples, 'kiteq_publish_to_store_ack_seconds', { quantile: '0.5' }) > 0);
    assert.equal(valueOf(after.samples, 'kiteq_store_up', {}), 1);
  });

  it('folds label values past the cap into "other" and keeps the first ones', () => {
    const cap = new LabelCap(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'a', 'd', 'b'].map((v) => cap.label(v)),
      ['a', 'b', 'other', 'a', 'other', 'b'],
    );
  });
});
