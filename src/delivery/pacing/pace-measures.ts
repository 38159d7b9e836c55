/**
 * Measures an adaptive pacer keeps (adaptive-pacer.ts): how fast it sends, and the consumer's
 * latency with no queue inside it. Times are passed in, as in the token bucket.
 */

/** Sends counted in buckets of `BUCKET_MS` over the last second. */
const BUCKET_MS = 100;
const BUCKETS = 10;

/** Events per second over the last second (whole buckets: off by at most one bucket's worth). */
export class RateMeter {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private bucket = 0;

  add(now: number): void {
    this.advance(now);
    this.counts[this.bucket % BUCKETS]! += 1;
  }

  perSecond(now: number): number {
    this.advance(now);
    return this.counts.reduce((sum, n) => sum + n, 0) * (1000 / (BUCKETS * BUCKET_MS));
  }

  private advance(now: number): void {
    const target = Math.floor(now / BUCKET_MS);
    if (this.bucket === 0) this.bucket = target;
    for (let b = this.bucket + 1; b <= Math.min(target, this.bucket + BUCKETS); b++) this.counts[b % BUCKETS] = 0;
    this.bucket = Math.max(this.bucket, target);
  }
}

/**
 * The lowest of the values seen in the last one to two `spanMs` (two buckets, rotated every
 * `spanMs`): a no-load latency that follows a consumer whose own latency grew for good, instead
 * of holding on to one fast answer forever.
 */
export class WindowedMin {
  private current = Infinity;
  private previous = Infinity;
  private rotatedAt: number;

  constructor(
    private readonly spanMs: number,
    now: number,
  ) {
    this.rotatedAt = now;
  }

  add(value: number, now: number): void {
    if (now - this.rotatedAt >= this.spanMs) {
      this.previous = now - this.rotatedAt >= 2 * this.spanMs ? Infinity : this.current;
      this.current = Infinity;
      this.rotatedAt = now;
    }
    this.current = Math.min(this.current, value);
  }

  /** Infinity before the first value. */
  get value(): number {
    return Math.min(this.current, this.previous);
  }
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
