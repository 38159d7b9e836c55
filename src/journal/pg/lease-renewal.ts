/**
 * Short leases, renewed: with several nodes, a node killed mid-attempt must not keep its deliveries
 * for the whole lease the delivery loop asks for (the destination's timeout plus a margin, 35 s by
 * default). So the journal stores a short lease (`leaseMs`, 3 s) and renews, every `everyMs` (1 s),
 * the leases of the claims this node holds and has not completed or released, never past the lease
 * the loop asked for. A node that dies stops renewing: its deliveries are due again within 3 s, and
 * any node claims them (recorded as an abandoned attempt, as after any expired lease).
 *
 * Renewal reads this node's clock, as claims do (`now` comes from each node's clock); nodes' clocks
 * must agree to well within the short lease.
 */
import type pg from 'pg';
import type { Claim } from '../port.js';
import { changes } from './connection.js';

/** Timing of the short leases. */
export interface LeaseRenewalOptions {
  /** Lease stored at claim time and at each renewal (ms). */
  leaseMs: number;
  /** How often the leases held are renewed (ms); well under `leaseMs`. */
  everyMs: number;
}

/** Defaults: a dead node's deliveries are taken back within 3 s. */
export const DEFAULT_LEASE_RENEWAL: LeaseRenewalOptions = { leaseMs: 3_000, everyMs: 1_000 };

/** The claims this node holds, renewed on a timer until `stop`. */
export class LeaseRenewal {
  /** Delivery id → the claim's attempt (fencing) and the lease the loop asked for. */
  private readonly held = new Map<number, { attempt: number; until: number }>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly options: LeaseRenewalOptions,
    private readonly clock: () => number = Date.now,
    private readonly onError?: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.renew(), options.everyMs);
    this.timer.unref();
  }

  track(claims: readonly Claim[]): void {
    for (const c of claims) this.held.set(c.deliveryId, { attempt: c.attempt, until: c.leaseUntil });
  }

  forget(claims: readonly Pick<Claim, 'deliveryId'>[]): void {
    for (const c of claims) this.held.delete(c.deliveryId);
  }

  stop(): void {
    clearInterval(this.timer);
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
    try {
      if (ids.length > 0)
        await changes(
          this.pool,
          `UPDATE deliveries SET due_at = x.until FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS x(id, attempt, until)
           WHERE deliveries.id = x.id AND deliveries.attempts = x.attempt AND deliveries.status = 'in_flight'
             AND deliveries.due_at < x.until`,
          [ids, attempts, untils],
        );
    } catch (error) {
      // The database is out of reach: the leases may run out and the deliveries go to another node
      // (whose outcome then wins; this node's is fenced off). Retried at the next tick.
      this.onError?.(error);
    } finally {
      this.renewing = false;
    }
  }
}
