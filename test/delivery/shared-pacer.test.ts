/**
 * The shared pacer's plan: whatever rate and burst, a bucket of `capacity` whose tokens are spent
 * within `holdMs` keeps every one-second window within rate + burst (capacity + rate·(1 s + holdMs)
 * ≤ rate + burst, or below the next whole request), and still lets a reservation take tokens.
 */
import { describe, expect, it } from 'vitest';
import { reservationPlan } from '../../src/delivery/pacing/shared-pacer.js';

describe('reservationPlan', () => {
  const cases: [number, number][] = [
    [50, 1],
    [50, 10],
    [40, 5],
    [1, 1],
    [0.5, 1],
    [2.6, 3],
    [1_000, 2],
    [1_000, 100],
    [100_000, 2_000],
  ];
  it.each(cases)('rate %s/s, burst %s: never more than rate + burst in one second', (rate, burst) => {
    const plan = reservationPlan(rate, burst);
    expect(plan.capacity).toBeGreaterThanOrEqual(1);
    expect(plan.capacity).toBeLessThanOrEqual(burst);
    expect(plan.batch).toBeGreaterThanOrEqual(1);
    expect(plan.holdMs).toBeGreaterThan(0);
    const most = plan.capacity + rate * (1 + plan.holdMs / 1000);
    // Requests are whole: the bound holds when the most the bucket allows stays below the next whole number.
    expect(Math.floor(most + 1e-9)).toBeLessThanOrEqual(Math.floor(rate + burst));
  });

  it('keeps tokens long enough to be usable when the burst allows it', () => {
    expect(reservationPlan(50, 10).holdMs).toBeGreaterThanOrEqual(50);
    expect(reservationPlan(100_000, 2_000).batch).toBeGreaterThanOrEqual(500);
  });
});
