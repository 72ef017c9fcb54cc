// How fast deliveries leave memory (bytes of jobs done per second, smoothed over one-second
// windows): publish admission holds no more undelivered bytes than drain within a share of the
// delivery timeout, so a publish waits behind at most that long (doc/delivery.md "Back-pressure").

const WINDOW_MS = 1000;

export class DrainRate {
  private windowStartMs: number;
  private windowBytes = 0;
  private smoothed = 0;

  constructor(private readonly nowMs: () => number) {
    this.windowStartMs = nowMs();
  }

  drained(bytes: number): void {
    this.roll();
    this.windowBytes += bytes;
  }

  /** bytes a second, the windows so far halved at each new one (0 until one has passed) */
  get bytesPerSec(): number {
    this.roll();
    return this.smoothed;
  }

  private roll(): void {
    const now = this.nowMs();
    const elapsed = now - this.windowStartMs;
    if (elapsed < WINDOW_MS) return;
    const rate = (this.windowBytes * 1000) / elapsed;
    // a long quiet gap is one slow window, not one per second missed
    this.smoothed = this.smoothed === 0 ? rate : (this.smoothed + rate) / 2;
    this.windowStartMs = now;
    this.windowBytes = 0;
  }
}
