/**
 * The shared pacer: it reserves from the journal's bucket only what its local pacer would spend. Its plan: whatever rate and burst, a bucket of `capacity` whose tokens are spent
 * within `holdMs` keeps every one-second window within rate + burst (capacity + rate·(1 s + holdMs)
 * ≤ rate + burst, or below the next whole request), and still lets a reservation take tokens.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createPacer } from '../../src/delivery/pacing/create-pacer.js';
import { reservationPlan, sharedPacerFactory } from '../../src/delivery/pacing/shared-pacer.js';

describe('reservationPlan', () => {
  const cases: [number, number][] = [
    [1_000, 1],
    [200, 1],
    [100, 1],
    [10, 1],
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
    // Past the burst only where the burst cannot cover a round trip: each node's own pacer still spaces its sends.
    expect(plan.capacity).toBeLessThanOrEqual(Math.max(burst, 2, Math.ceil(rate / 50)));
    expect(plan.batch).toBeGreaterThanOrEqual(1);
    expect(plan.holdMs).toBeGreaterThan(0);
    const most = plan.capacity + plan.refillRate * (1 + (plan.holdMs + plan.spreadMs) / 1000);
    // A reserved token outlives a database round trip, and the rate is kept but for 7 % at most.
    expect(plan.holdMs).toBeGreaterThanOrEqual(20);
    expect(plan.refillRate).toBeLessThanOrEqual(rate);
    expect(plan.refillRate).toBeGreaterThanOrEqual(0.93 * rate);
    // Requests are whole: the bound holds when the most the bucket allows stays below the next whole number.
    expect(Math.floor(most + 1e-9)).toBeLessThanOrEqual(Math.floor(rate + burst));
  });

  it('keeps room for requests that reach the consumer closer together than they were sent, when the burst allows', () => {
    expect(reservationPlan(40, 5)).toMatchObject({ spreadMs: 25, capacity: 2 });
    expect(reservationPlan(50, 10).spreadMs).toBe(25);
    expect(reservationPlan(1_000, 2)).toMatchObject({ spreadMs: 25, holdMs: 20, capacity: 20 });
  });

  it('keeps tokens long enough to be usable when the burst allows it', () => {
    expect(reservationPlan(50, 10).holdMs).toBeGreaterThanOrEqual(50);
    expect(reservationPlan(100_000, 2_000).batch).toBeGreaterThanOrEqual(500);
  });
});

describe('sharedPacerFactory', () => {
  const T = Date.UTC(2030, 0, 1);
  const crm = configSchema.parse({
    destinations: { crm: { url: 'http://127.0.0.1:9/', rate: '50/s', burst: 10 } },
    sources: { shop: { path: '/in/shop', to: 'crm' } },
  }).destinations.crm!;

  it('reserves shared tokens only when the local pacer would send, and no more than it can spend', async () => {
    const asked: number[] = [];
    // The journal's bucket, as the shared pacer sees it: grants what is asked.
    const reserve = async (_name: string, want: number) => {
      asked.push(want);
      return want;
    };
    // The local pacer has backed off to 10/s (as an adaptive one does after refusals), below the shared 50/s.
    const local = (d: typeof crm, name: string, now: number) => createPacer({ ...d, rate: 10, burst: 1 }, name, now);
    const pacer = sharedPacerFactory(reserve, local, () => T)(crm, 'crm', T);
    // First send: the local pacer allows one, which is all it can spend within the hold time.
    expect(pacer.tryTake(T)).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([1]);
    expect(pacer.tryTake(T)).toBe(true);
    // The local pacer refuses for 100 ms: nothing is reserved meanwhile, whoever asks.
    for (let at = T + 1; at < T + 95; at += 7) {
      expect(pacer.tryTake(at)).toBe(false);
      expect(pacer.msUntilNext(at)).toBeGreaterThan(0);
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([1]);
  });
});
