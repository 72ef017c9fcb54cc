// What a consumer-side bench got from producer runs elsewhere: each run chooses its own run id, so
// duplicates are counted within each run; deliveries are also counted per second from the start.
import { LatencyRecorder } from './latency';
import { nowMs, PAYLOAD_MIN_BYTES, readPayload } from './peers/payload';
import { ReceiptTracker } from './peers/receipts';

export class RunReceipts {
  readonly deliver = new LatencyRecorder();
  readonly perSecond: number[] = [];
  private readonly runs = new Map<number, ReceiptTracker>();
  private readonly start = nowMs();

  /** One delivered body (a bench payload, or anything shorter, counted per second only). */
  receive(body: Buffer): void {
    if (body.length >= PAYLOAD_MIN_BYTES) {
      const { run } = readPayload(body);
      let receipts = this.runs.get(run);
      if (receipts === undefined) this.runs.set(run, (receipts = new ReceiptTracker(run, this.deliver)));
      receipts.receive(body);
    }
    const second = Math.floor((nowMs() - this.start) / 1000);
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second]++;
  }

  /** received and duplicates summed over the runs seen */
  totals(): { received: number; duplicates: number; runs: number } {
    let received = 0;
    let duplicates = 0;
    for (const receipts of this.runs.values()) {
      received += receipts.received;
      duplicates += receipts.duplicates;
    }
    return { received, duplicates, runs: this.runs.size };
  }
}
