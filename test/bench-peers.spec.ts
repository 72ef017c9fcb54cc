// The peers of `kiteq-bench compare` (issue "Benchmark harness"): RabbitMQ and NATS JetStream run
// kiteq's roundtrip workload on this machine's real servers; the latency summary and the HTML
// report are checked on known inputs.
import assert from 'node:assert/strict';
import { compareTable } from '../bench/compare-table';
import { LatencyRecorder } from '../bench/latency';
import { runNatsRoundtrip } from '../bench/peers/nats';
import { EARLY_MS, SendPacer } from '../bench/peers/pacer';
import { nowMs } from '../bench/peers/payload';
import { runRabbitRoundtrip } from '../bench/peers/rabbitmq';
import { renderReportHtml } from '../bench/report-html';
import type { PeerUnavailable, RoundtripOptions, RoundtripResult } from '../bench/result';
import { isUnavailable } from '../bench/result';

const shortRun: RoundtripOptions = { producers: 4, inFlight: 10, messageSize: 512, messages: 2000 };

function measured(result: RoundtripResult | PeerUnavailable): RoundtripResult {
  if (isUnavailable(result)) assert.fail(`peer unavailable: ${result.unavailable}`);
  return result;
}

function assertCountsAddUp(result: RoundtripResult, messages: number): void {
  assert.equal(result.sent, messages);
  assert.equal(result.sent, result.acked + result.failed);
  assert.equal(result.failed, 0, String(result.options?.firstError));
  assert.ok(result.received >= result.acked, `received ${result.received} < acked ${result.acked}`);
  assert.equal(result.lost, 0);
  assert.equal(result.stale, 0);
  assert.equal(result.publishAck.count, result.acked);
  // as for kiteq-ts: latency on each message's first receipt only
  assert.equal(result.deliver.count, result.received);
  assert.ok(result.deliveredPerSec > 0);
  assert.equal(
    result.perSecond.reduce((a, b) => a + b, 0),
    result.acked,
  );
  assert.ok(result.tps > 0);
  assert.ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms && result.p99Ms <= result.deliver.max);
}

describe('bench peers - RabbitMQ at 127.0.0.1:5672', function () {
  this.timeout(60_000);

  it('runs 2,000 messages through a quorum queue with confirms, and the counts add up', async () => {
    const result = measured(await runRabbitRoundtrip(shortRun));
    assert.equal(result.system, 'rabbitmq');
    assertCountsAddUp(result, 2000);
  });

  it('publishes the same warm-up as kiteq-ts first, and leaves it out of the figures', async () => {
    const result = measured(await runRabbitRoundtrip({ ...shortRun, messages: 500, warmupMessages: 300 }));
    assertCountsAddUp(result, 500);
    assert.deepEqual(result.warmup, {
      sent: 300,
      acked: 300,
      failed: 0,
      received: 300,
      duplicates: 0,
      lost: 0,
      stale: 0,
    });
  });

  it('runs on a classic durable queue too', async () => {
    const result = measured(await runRabbitRoundtrip({ ...shortRun, messages: 500, queueType: 'classic' }));
    assertCountsAddUp(result, 500);
  });

  it('reports a server that refuses the connection as unavailable, promptly', async () => {
    const started = Date.now();
    const result = await runRabbitRoundtrip({ ...shortRun, url: 'amqp://guest:guest@127.0.0.1:1' });
    assert.ok(isUnavailable(result));
    assert.match(result.unavailable, /ECONNREFUSED/);
    assert.ok(!result.unavailable.includes('guest:guest'), 'no password in the reason');
    assert.ok(Date.now() - started < 5000);
  });
});

describe('bench peers - NATS JetStream at 127.0.0.1:4222', function () {
  this.timeout(60_000);

  it('runs 2,000 messages through a file stream with PubAcks and explicit acks, and the counts add up', async () => {
    const result = measured(await runNatsRoundtrip(shortRun));
    assert.equal(result.system, 'nats');
    assertCountsAddUp(result, 2000);
  });

  it('publishes the same warm-up as kiteq-ts first, and leaves it out of the figures', async () => {
    const result = measured(await runNatsRoundtrip({ ...shortRun, messages: 500, warmupMessages: 300 }));
    assertCountsAddUp(result, 500);
    assert.deepEqual(result.warmup, {
      sent: 300,
      acked: 300,
      failed: 0,
      received: 300,
      duplicates: 0,
      lost: 0,
      stale: 0,
    });
  });

  it('holds a fixed offered rate, measured from the intended send times', async () => {
    const started = Date.now();
    const result = measured(await runNatsRoundtrip({ ...shortRun, messages: 300, rate: 1000 }));
    assertCountsAddUp(result, 300);
    assert.ok(Date.now() - started >= 290, 'the 300th message is not sent before 0.3 s');
  });

  it('reports a server that refuses the connection as unavailable, promptly', async () => {
    const started = Date.now();
    const result = await runNatsRoundtrip({ ...shortRun, servers: '127.0.0.1:1' });
    assert.ok(isUnavailable(result));
    assert.ok(Date.now() - started < 5000);
  });
});

describe('bench latency - HDR summary', function () {
  it('gives the percentiles of known values in ms with µs precision', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms++) recorder.recordMs(ms);
    const summary = recorder.summary();
    const near = (actual: number, expected: number): void =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.001, `${actual} is not within 0.1% of ${expected}`);
    near(summary.p50, 500);
    near(summary.p90, 900);
    near(summary.p99, 990);
    near(summary.p999, 999);
    near(summary.max, 1000);
    assert.equal(summary.count, 1000);
  });

  it('keeps sub-millisecond values', () => {
    const recorder = new LatencyRecorder();
    recorder.recordMs(0.25);
    recorder.recordMs(0.75);
    assert.equal(recorder.percentileMs(50), 0.25);
    assert.equal(recorder.summary().max, 0.75);
  });

  it('summarises an empty recorder as zeros', () => {
    assert.deepEqual(new LatencyRecorder().summary(), { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0 });
  });
});

describe('bench report - HTML', function () {
  it('renders one self-contained page with inline SVG charts and the figures', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 100; ms++) recorder.recordMs(ms);
    const summary = recorder.summary();
    const result: RoundtripResult = {
      system: 'rabbitmq',
      sent: 100,
      acked: 100,
      failed: 0,
      received: 100,
      duplicates: 0,
      lost: 0,
      stale: 0,
      tps: 50,
      deliveredPerSec: 48,
      p50Ms: summary.p50,
      p99Ms: summary.p99,
      publishAck: summary,
      deliver: summary,
      perSecond: [40, 60],
      deliverCurve: recorder.curve(),
    };
    const html = renderReportHtml([
      { name: 'rabbitmq', result },
      { name: 'nats <down>', result: { unavailable: 'connect ECONNREFUSED' } },
    ]);
    assert.match(html, /^<!DOCTYPE html>/);
    assert.equal(html.match(/<svg/g)?.length, 2);
    assert.equal(html.match(/<polyline/g)?.length, 2);
    assert.match(html, /nats &lt;down&gt;/);
    assert.match(html, /unavailable: connect ECONNREFUSED/);
    assert.doesNotMatch(html, /<script|<link|src=|href=/, 'no external assets');
  });
});

describe('bench compare - the table', function () {
  it('puts delivered/s beside acked/s and says which systems ack before fsync', () => {
    const summary = new LatencyRecorder().summary();
    const result = (system: string, tps: number, deliveredPerSec: number, lost = 0): RoundtripResult => ({
      system,
      sent: 100,
      acked: 100,
      failed: 0,
      received: 100 - lost,
      duplicates: 0,
      lost,
      stale: 1,
      tps,
      deliveredPerSec,
      p50Ms: 0,
      p99Ms: 0,
      publishAck: summary,
      deliver: summary,
      perSecond: [],
    });
    const kiteq = result('kiteq', 3000, 2000);
    const table = compareTable(
      [
        { name: 'kiteq-ts', result: kiteq },
        { name: 'rabbitmq (quorum)', result: result('rabbitmq', 1500, 1000, 2) },
        { name: 'nats jetstream', result: result('nats', 1000, 4000) },
        { name: 'other', result: { unavailable: 'connect ECONNREFUSED' } },
      ],
      kiteq,
    ).split('\n');
    const cells = (prefix: string) => table.find((line) => line.startsWith(prefix))!.split(/\s{2,}/);
    assert.deepEqual(cells('system').slice(1, 3), ['acked/s', 'delivered/s']);
    assert.deepEqual(cells('kiteq-ts').slice(1, 3), ['3000', '2000']);
    assert.deepEqual(cells('rabbitmq').slice(-5), ['2', '0', '1', 'after fsync', '2.00, 2.00']);
    assert.deepEqual(cells('nats').slice(-2), ['before fsync²', '3.00, 0.50']);
    assert.match(cells('other')[1], /not running: connect ECONNREFUSED/);
    assert.ok(
      table.some((line) =>
        /^² JetStream acks once the message is in its file, and fsyncs every sync_interval/.test(line),
      ),
    );
  });
});

describe('bench pacer - open-loop send times', function () {
  it('lets every send go in order, never more than one timer tick before its intended time', async () => {
    const pacer = new SendPacer();
    const start = nowMs() + 5;
    const early: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const at = start + i * 0.25; // 4,000/s: several sends per timer tick
        for (let wait = pacer.until(at); wait !== null; wait = pacer.until(at)) await wait;
        early.push(at - nowMs());
        order.push(i);
      }),
    );
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.ok(Math.max(...early) <= EARLY_MS, `a send went ${Math.max(...early)} ms early`);
  });
});
