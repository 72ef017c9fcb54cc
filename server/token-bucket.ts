// A token bucket: `ratePerSec` tokens a second, bursting up to one second's worth.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly nowMs: () => number,
  ) {
    this.tokens = ratePerSec;
    this.lastMs = nowMs();
  }

  tryTake(): boolean {
    const now = this.nowMs();
    if (now > this.lastMs) {
      this.tokens = Math.min(this.ratePerSec, this.tokens + ((now - this.lastMs) * this.ratePerSec) / 1000);
      this.lastMs = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
