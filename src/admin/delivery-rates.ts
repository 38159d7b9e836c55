/**
 * This process's delivery rate per destination, from the `delivery:attempt` events it saw: what the
 * admin API and the dashboard show as the rate and the time to drain. Kept per whole second over
 * the last minute, so that a busy destination costs a minute of counters, not one entry per event.
 *
 * The rate is counted since the first delivery in the minute, not over a full minute: right after a
 * start or a resume, dividing by a full minute would understate the rate (and overstate the time
 * to drain) for up to a minute.
 */

const RATE_WINDOW_MS = 60_000;
const RATE_MIN_SPAN_MS = 10_000;
const SENDING_MIN_SPAN_MS = 1_000;

/** Deliveries of each destination in the last minute, by whole second. */
export class DeliveryRates {
  /** Per destination, deliveries by whole second of the last minute (oldest first). */
  private readonly bySecond = new Map<
    string,
    { second: number; count: number; firstAt: number; firstStartedAt: number }[]
  >();

  /** Counts a delivery to `destination` that ended at `at` after `durationMs`. */
  record(destination: string, at: number, durationMs: number): void {
    const second = Math.floor(at / 1000);
    let seconds = this.bySecond.get(destination);
    if (!seconds) {
      seconds = [];
      this.bySecond.set(destination, seconds);
    }
    const last = seconds.at(-1);
    if (last?.second === second) last.count += 1;
    else seconds.push({ second, count: 1, firstAt: at, firstStartedAt: at - durationMs });
    while (seconds[0]!.second * 1000 < at - RATE_WINDOW_MS) seconds.shift();
  }

  /** See `Metrics.sendingRate`. */
  sendingRate(destination: string, now: number): number | undefined {
    let count = 0;
    let first = Infinity;
    for (const s of this.bySecond.get(destination) ?? []) {
      if (s.firstAt < now - RATE_WINDOW_MS || s.firstAt > now) continue;
      count += s.count;
      first = Math.min(first, s.firstStartedAt);
    }
    return count === 0 ? undefined : count / (Math.max(SENDING_MIN_SPAN_MS, now - first) / 1000);
  }

  /** See `Metrics.deliveredRate`. */
  deliveredRate(destination: string, now: number): number | undefined {
    let count = 0;
    let first = Infinity;
    for (const s of this.bySecond.get(destination) ?? []) {
      if (s.firstAt < now - RATE_WINDOW_MS || s.firstAt > now) continue;
      count += s.count;
      first = Math.min(first, s.firstAt);
    }
    return count === 0 ? undefined : count / (Math.max(RATE_MIN_SPAN_MS, now - first) / 1000);
  }
}
