/**
 * The claims a destination loop took ahead of its free slots (claim-ahead.ts), waiting to be sent
 * in claim order. A buffered claim holds a lease: it goes back to the journal (`Journal.release`:
 * pending again, its attempt uncounted) when it would not outlast an attempt or the journal no
 * longer confirms its lease (`Journal.leaseConfirmed`, several nodes), and whenever the loop
 * stops sending (a pause, a hold, shutdown), rather than letting the lease run out and the
 * delivery be counted as an abandoned attempt.
 */
import type { Claim, Journal } from '../journal/port.js';
import type { Logger } from '../log.js';

/** Claimed ahead, not sent yet. */
export class ClaimBuffer {
  private ready: Claim[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly clock: () => number,
    /** Least lease a claim must still hold to be sent: a whole attempt, and a margin. */
    private readonly minLeaseLeftMs: number,
  ) {}

  get size(): number {
    return this.ready.length;
  }

  add(claims: Claim[]): void {
    this.ready.push(...claims);
  }

  /**
   * Starts buffered claims in order while `hasRoom` (a free slot, a mode that sends) and `take` (the
   * pacer's token) allow; claims too close to their lease end go back instead.
   */
  send(now: number, hasRoom: () => boolean, take: () => boolean, start: (claim: Claim) => void): void {
    const stale: Claim[] = [];
    while (this.ready.length > 0 && hasRoom()) {
      const claim = this.ready[0]!;
      if (claim.leaseUntil - now < this.minLeaseLeftMs || this.journal.leaseConfirmed?.(claim, now) === false) {
        // Sent now, the attempt could outlive the lease and race a second claim of the same delivery;
        // or the journal's short lease is no longer confirmed, and another node may take it over.
        stale.push(this.ready.shift()!);
        continue;
      }
      if (!take()) break;
      start(this.ready.shift()!);
    }
    if (stale.length > 0) void this.release(stale);
  }

  /** Gives every buffered claim back to the journal. */
  async releaseAll(): Promise<void> {
    if (this.ready.length === 0) return;
    const claims = this.ready;
    this.ready = [];
    await this.release(claims);
  }

  private async release(claims: Claim[]): Promise<void> {
    try {
      await this.journal.release(claims, this.clock());
    } catch (error) {
      // Their leases run out instead, and they are claimed again (each recorded as an abandoned attempt).
      this.log.error({ err: error, count: claims.length }, 'could not give back claimed deliveries');
    }
  }
}
