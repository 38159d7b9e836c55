/** One row of GET /destinations from the journal's figures and the loop's live state (`destinationStatus`). */
import { describe, expect, it } from 'vitest';
import { destinationStatus } from '../../src/admin/routes/destination-handlers.js';
import type { DestinationState } from '../../src/delivery/scheduler.js';
import type { DestinationStats } from '../../src/journal/port.js';

const NOW = 1_800_000_000_000;
const stats: DestinationStats = {
  pending: 100,
  inFlight: 16,
  retrying: 0,
  dead: 0,
  deliveredLastHour: 50,
  deliveredLastMinute: 50,
  oldestUnfinishedAt: NOW - 30_000,
};
const state: DestinationState = {
  mode: 'running',
  paused: false,
  inFlight: 2,
  claimedAhead: 0,
  heldUntil: undefined,
  heldBy: undefined,
  rate: 5,
  concurrency: 2,
  pace: undefined,
};

describe('destinationStatus', () => {
  it('counts as in flight only what is at the consumer; claimed-ahead deliveries are apart', () => {
    const row = destinationStatus('crm', stats, { state, now: NOW });
    expect(row.in_flight).toBe(2);
    expect(row.in_flight).toBeLessThanOrEqual(state.concurrency);
    expect(row.claimed).toBe(14);
  });

  it('keeps them in the backlog it drains', () => {
    const row = destinationStatus('crm', stats, { state, now: NOW, configuredRate: 0.5 });
    expect(row.eta_seconds).toBe(232); // 100 pending + 16 claimed, at 0.5/s
  });

  it('counts every claim as in flight when the live state is unknown', () => {
    const row = destinationStatus('crm', stats, { state: undefined, now: NOW });
    expect(row).toMatchObject({ in_flight: 16, claimed: 0 });
  });

  it('keeps the time to drain sane right after a restart: the pace since the first send, capped by the rate', () => {
    // Restarted after a long stop with 1000 waiting at 5/s: the burst of 5 went in the first half second.
    const restarted: DestinationStats = { ...stats, pending: 1000, inFlight: 0, deliveredLastMinute: 5 };
    const row = destinationStatus('crm', restarted, {
      state: { ...state, inFlight: 0 },
      now: NOW,
      localRate: 0.5, // 5 over the 10 s floor
      sendingRate: 5 / 0.6, // 5 since the first send 0.6 s ago
      configuredRate: 5,
    });
    expect(row.eta_seconds).toBe(200); // 1000 at 5/s, not 2000 at 0.5/s
    expect(row.rate_per_second).toBe(0.5);
  });
});
