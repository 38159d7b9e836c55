/**
 * Notices a consumer that cannot be reached at all (connection refused, reset, no answer in time)
 * and stops a destination from hammering it: without it, every waiting event retried on its own
 * schedule, so an outage with a backlog meant thousands of doomed attempts, and the CPU to make
 * and record them.
 *
 *   closed ──`threshold` unanswered attempts in a row──▶ open (hold for `delay`)
 *   open ──hold over──▶ probing: one request at a time
 *   probing ──an answer (any status)──▶ closed
 *   probing ──no answer──▶ open again, the delay doubled (up to `maxMs`)
 *
 * Only reachability counts: a 500 is an answer, and the retry policy deals with it. Attempts that
 * were already under way when the breaker opened report late; they do not double the delay.
 * Times are passed in, as in the token bucket.
 */

/** What the destination should do after an attempt. */
export interface BreakerChange {
  /** Send nothing before this time. */
  holdUntil?: number;
  /** The breaker just opened (first time in this outage), or just closed again. */
  opened?: boolean;
  closed?: boolean;
}

/** Per-destination breaker; see the module comment. */
export class CircuitBreaker {
  private failures = 0;
  /** Times opened in the current outage; 0 while closed. */
  private opens = 0;
  private openedAt = 0;

  constructor(
    private readonly threshold: number,
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** True while the consumer is believed down: at most one request at a time goes out. */
  get probing(): boolean {
    return this.opens > 0;
  }

  /** Records one finished attempt, started at `startedAt`; `answered` is false when no HTTP answer came. */
  record(answered: boolean, startedAt: number, now: number): BreakerChange {
    if (answered) {
      this.failures = 0;
      if (this.opens === 0) return {};
      this.opens = 0;
      return { closed: true };
    }
    this.failures += 1;
    if (this.opens === 0) {
      if (this.failures < this.threshold) return {};
      return { ...this.open(now), opened: true };
    }
    // Open already: only an attempt made since then (the probe) says the consumer is still down.
    return startedAt >= this.openedAt ? this.open(now) : {};
  }

  private open(now: number): BreakerChange {
    this.opens += 1;
    this.openedAt = now;
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** (this.opens - 1));
    return { holdUntil: now + delay };
  }
}
