// `kiteq-bench http --batch N` (doc/http-gateway.md "Batch publish"): the publish loop's messages
// (peers/publish-loop.ts, one lane per message in flight) gathered N at a time into one POST
// …/messages:batch. A message's latency is its batch's request (publish→201); the request
// latencies are recorded on their own.
import { LatencyRecorder } from './latency';

interface Queued {
  payload: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One request's answer: 201, 207 or a whole-batch refusal, with its per-message results. */
export interface BatchAnswer {
  status: number;
  text: string;
}

export class BatchCoalescer {
  private queue: Queued[] = [];
  private flushQueued = false;
  readonly requests = new LatencyRecorder();

  constructor(
    private readonly size: number,
    private readonly post: (body: Buffer) => Promise<BatchAnswer>,
  ) {}

  /** Resolves when the message's batch answered it stored, rejects with its refusal. */
  add(payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (this.queue.length >= this.size) this.flush();
      // the lanes a 201 freed publish again in its microtasks: a short batch waits for them, then goes
      else if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    void this.send(this.queue.splice(0, this.size));
  }

  private async send(items: Queued[]): Promise<void> {
    const json = `[${items.map((m) => `{"bodyBase64":"${m.payload.toString('base64')}"}`).join(',')}]`;
    const started = performance.now();
    let answer: BatchAnswer;
    try {
      answer = await this.post(Buffer.from(json));
    } catch (error) {
      for (const m of items) m.reject(error as Error);
      return;
    }
    this.requests.recordMs(performance.now() - started);
    let results: { status: number; reason?: string }[] | undefined;
    try {
      results = (JSON.parse(answer.text) as { results?: { status: number; reason?: string }[] }).results;
    } catch {
      results = undefined;
    }
    items.forEach((m, i) => {
      const result = results?.[i];
      if (result?.status === 201) m.resolve();
      else m.reject(new Error(`${result?.status ?? answer.status} ${result?.reason ?? answer.text.slice(0, 200)}`));
    });
  }
}
