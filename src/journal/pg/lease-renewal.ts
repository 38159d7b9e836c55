/**
 * Short leases, renewed: with several nodes, a node killed mid-attempt must not keep its deliveries
 * for the whole lease the delivery loop asks for (the destination's timeout plus a margin, 35 s by
 * default). So the journal stores a short lease (`leaseMs`, 3 s) and renews, every `everyMs` (1 s),
 * the leases of the claims this node holds and has not completed or released, never past the lease
 * the loop asked for. A node that dies stops renewing: its deliveries are due again within 3 s, and
 * any node claims them (recorded as an abandoned attempt, as after any expired lease).
 *
 * Renewal runs on a connection of its own, never the pool's: group commits and claims waiting on a
 * destination's advisory lock can hold every pooled connection for longer than the short lease.
 * Its connect and statement timeouts are half of `leaseMs - everyMs`, so a stalled renewal fails
 * (and is retried at the next tick) before the lease it renews runs out.
 *
 * A lease this node cannot renew goes to another node, which sends the delivery again. So for each
 * claim the time until which its stored lease is confirmed is kept (the lease stored at claim time,
 * extended by each renewal the database applied), and `confirmed` tells the delivery loop, before it
 * sends a claim, whether a margin of that lease is left; a claim without one is released, not sent.
 *
 * Remaining hazard: an attempt already in flight when renewals start failing is not aborted. Once
 * its confirmed lease has run out (at most `leaseMs` after the last renewal), another node may claim
 * and send the delivery while this attempt still waits for its answer (up to the destination's
 * timeout): the consumer can then see one request more than `concurrency`, and on a fifo or keyed
 * destination the older attempt can land after the newer event's. Its outcome is fenced off (the
 * newer claim decides). This takes a database unreachable from this node only, for more than
 * `leaseMs - everyMs`, during a slow attempt.
 *
 * Renewal reads this node's clock, as claims do (`now` comes from each node's clock); nodes' clocks
 * must agree to well within the short lease.
 */
import type pg from 'pg';
import type { Claim } from '../port.js';
import { createClient } from './connection.js';

/** Timing of the short leases. */
export interface LeaseRenewalOptions {
  /** Lease stored at claim time and at each renewal (ms). */
  leaseMs: number;
  /** How often the leases held are renewed (ms); well under `leaseMs`. */
  everyMs: number;
}

/** Defaults: a dead node's deliveries are taken back within 3 s. */
export const DEFAULT_LEASE_RENEWAL: LeaseRenewalOptions = { leaseMs: 3_000, everyMs: 1_000 };

/** How renewal is going: reported once when renewals start failing, and once when they work again. */
export type RenewalReport = (renewing: boolean, error?: unknown) => void;

/** A claim held by this node. */
interface Held {
  /** The claim's attempt (fencing). */
  attempt: number;
  /** The lease the loop asked for: never renewed past it. */
  until: number;
  /** Until when the database holds the lease for this node, as far as this node knows. */
  confirmedUntil: number;
}

/** The claims this node holds, renewed on a timer until `stop`. */
export class LeaseRenewal {
  private readonly held = new Map<number, Held>();
  private readonly timer: NodeJS.Timeout;
  private readonly timeoutMs: number;
  /** Least confirmed lease left for a claim to be sent. */
  readonly marginMs: number;
  private client: pg.Client | undefined;
  private renewing = false;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly url: string,
    readonly options: LeaseRenewalOptions,
    private readonly report?: RenewalReport,
    private readonly clock: () => number = Date.now,
  ) {
    this.timeoutMs = Math.max(50, (options.leaseMs - options.everyMs) / 2);
    this.marginMs = Math.min(1_000, options.leaseMs / 3);
    this.timer = setInterval(() => void this.renew(), options.everyMs);
    this.timer.unref();
  }

  /** Claims just made at `now`: their stored lease is confirmed until `now + leaseMs` (at most the one asked for). */
  track(claims: readonly Claim[], now: number): void {
    for (const c of claims)
      this.held.set(c.deliveryId, {
        attempt: c.attempt,
        until: c.leaseUntil,
        confirmedUntil: Math.min(c.leaseUntil, now + this.options.leaseMs),
      });
  }

  forget(claims: readonly Pick<Claim, 'deliveryId'>[]): void {
    for (const c of claims) this.held.delete(c.deliveryId);
  }

  /**
   * False when the database may no longer hold `claim`'s lease for this node `marginMs` from `now`
   * (renewals failed, or another node took it over): it must not be sent. True for a claim not
   * tracked here.
   */
  confirmed(claim: Pick<Claim, 'deliveryId' | 'attempt'>, now: number): boolean {
    const h = this.held.get(claim.deliveryId);
    if (h === undefined || h.attempt !== claim.attempt) return true;
    return h.confirmedUntil - now >= this.marginMs;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => {});
  }

  /** The renewal connection, opened on first use and again after a failure. */
  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = createClient(this.url, this.timeoutMs, this.timeoutMs);
    // An error between two renewals must not end the process; the next renewal reconnects.
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.stopped) {
      client.end().catch(() => {});
      throw new Error('lease renewal stopped');
    }
    this.client = client;
    return client;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const now = this.clock();
    const ids: number[] = [];
    const attempts: number[] = [];
    const untils: number[] = [];
    for (const [id, h] of this.held) {
      if (h.until <= now) {
        this.held.delete(id);
        continue;
      }
      ids.push(id);
      attempts.push(h.attempt);
      untils.push(Math.min(h.until, now + this.options.leaseMs));
    }
    let client: pg.Client | undefined;
    try {
      if (ids.length > 0) {
        client = await this.connection();
        // RETURNING: the leases this node still holds; one taken over elsewhere stays unconfirmed.
        const result = await client.query<{ id: number; until: number }>(
          `UPDATE deliveries SET due_at = greatest(deliveries.due_at, x.until)
           FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS x(id, attempt, until)
           WHERE deliveries.id = x.id AND deliveries.attempts = x.attempt AND deliveries.status = 'in_flight'
           RETURNING deliveries.id, x.until`,
          [ids, attempts, untils],
        );
        for (const row of result.rows) {
          const h = this.held.get(row.id);
          if (h) h.confirmedUntil = Math.max(h.confirmedUntil, row.until);
        }
      }
      if (this.failing) {
        this.failing = false;
        this.report?.(true);
      }
    } catch (error) {
      // The database is out of reach or slow: the leases may run out and the deliveries go to
      // another node (whose outcome then wins; this node's is fenced off). The connection is
      // reopened and renewal retried at the next tick. Reported once per run of failures.
      if (client && this.client === client) {
        this.client = undefined;
        client.end().catch(() => {});
      }
      if (!this.failing && !this.stopped) {
        this.failing = true;
        this.report?.(false, error);
      }
    } finally {
      this.renewing = false;
    }
  }
}
