/**
 * Token bucket pacing one destination: holds up to `burst` tokens, refills `ratePerSecond`
 * continuously, and every request sent takes one. Starts full; `drain` takes out what was sent
 * before the bucket existed (by an earlier process), so that a restart does not add a burst.
 * Times are passed in, so the scheduler and tests decide what "now" is.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** How long a full bucket takes to refill from empty: sends older than this no longer count. */
  get refillMs(): number {
    return (this.burst * 1000) / this.ratePerSecond;
  }

  /** Whole tokens available now. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** Takes one token if there is one. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes `count` tokens, or all there are when fewer. */
  drain(count: number, now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - count);
  }

  /** Milliseconds until a whole token is available (0 when one is). */
  msUntilToken(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }
}
