/**
 * The adaptive pacer in simulated time: against modelled consumers (a rate limiter like nginx's
 * limit_req, a worker pool with a queue) it keeps under its ceilings, learns the consumer's
 * capacity with few refusals, and gets the throughput back soon after the consumer recovers;
 * and each signal moves the limit it should.
 */
import { describe, expect, it } from 'vitest';
import { type AdaptiveLimits, AdaptivePacer } from '../../../src/delivery/pacing/adaptive-pacer.js';
import { IDLE_MS } from '../../../src/delivery/pacing/adaptive-tuning.js';
import type { PaceSample } from '../../../src/delivery/pacing/pacer.js';
import { createStaticPacer } from '../../../src/delivery/pacing/static-pacer.js';
import { limiter, pool, simulate } from './consumer-model.js';

const limits = (maxRate: number | undefined, maxConcurrency: number): AdaptiveLimits => ({
  maxRate,
  maxConcurrency,
  minRate: 1,
  minConcurrency: 1,
  burst: 1,
});
const answer = (status: number | undefined, latencyMs: number, failure?: 'timeout' | 'connection'): PaceSample => ({
  status,
  latencyMs,
  retryAfter: undefined,
  failure,
});
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Sends one request and answers it at once, `count` times, `gapMs` apart; returns the time after. */
function steadyAnswers(pacer: AdaptivePacer, from: number, count: number, latencyMs: number, gapMs = 10): number {
  let t = from;
  for (let i = 0; i < count; i++, t += gapMs) {
    if (pacer.tryTake(t)) pacer.record(answer(200, latencyMs), t + latencyMs);
  }
  return t;
}

describe('adaptive pacer against modelled consumers', () => {
  it('a rate limiter (10/s, burst 5) under ceilings of 40/s and 8: few refusals, close to the ideal time', () => {
    const fixed = simulate(
      createStaticPacer({ rate: 40, burst: 1, concurrency: 8 }, 'x', 0),
      limiter(() => 10, 5),
      200,
    );
    const adaptive = simulate(
      new AdaptivePacer(limits(40, 8), 0),
      limiter(() => 10, 5),
      200,
    );
    expect(fixed.refusals).toBeGreaterThan(100);
    expect(adaptive.refusals).toBeLessThanOrEqual(25);
    expect(adaptive.doneAt).toBeLessThanOrEqual(25_000); // the ideal is 20 s
  });

  it('a pool of 4 workers (100 ms, queue of 4, 503 beyond) under 500/s and 32: few refusals, most of its 40/s', () => {
    const fixed = simulate(
      createStaticPacer({ rate: 500, burst: 1, concurrency: 32 }, 'x', 0),
      pool(() => 4, 100, 4),
      400,
    );
    const adaptive = simulate(
      new AdaptivePacer(limits(500, 32), 0),
      pool(() => 4, 100, 4),
      400,
    );
    expect(fixed.refusals).toBeGreaterThan(100);
    expect(adaptive.refusals).toBeLessThanOrEqual(40);
    expect(adaptive.doneAt).toBeLessThanOrEqual(400 / (0.75 * 40) / 0.001);
  });

  it('never passes its ceilings, even against a consumer that takes anything', () => {
    const changes: { rate: number | undefined; concurrency: number }[] = [];
    const pacer = new AdaptivePacer(limits(30, 3), 0, undefined, (status) => changes.push(status));
    const run = simulate(
      pacer,
      pool(() => 100, 20, 100),
      600,
    );
    expect(run.maxInFlight).toBeLessThanOrEqual(3);
    expect(run.maxSentInSecond).toBeLessThanOrEqual(30 + 1);
    for (const c of changes) {
      expect(c.rate!).toBeLessThanOrEqual(30);
      expect(c.concurrency).toBeLessThanOrEqual(3);
    }
    expect(pacer.rate).toBe(30);
  });

  it('a pool that drops to a fifth of its workers for 20 s: most of the throughput is back within 10 s', () => {
    const workers = (t: number) => (t >= 10_000 && t < 30_000 ? 2 : 10);
    const run = simulate(new AdaptivePacer(limits(500, 32), 0), pool(workers, 100, 4), 3_000);
    // 100/s before and after, 20/s during.
    expect(mean(run.perSecond.slice(34, 40))).toBeGreaterThanOrEqual(75);
    expect(run.refusals).toBeLessThanOrEqual(60);
  });

  it('a rate limiter that drops to a fifth for 20 s: most of the throughput is back within 10 s', () => {
    const rate = (t: number) => (t >= 10_000 && t < 30_000 ? 10 : 50);
    const run = simulate(new AdaptivePacer(limits(100, 8), 0), limiter(rate, 5), 2_500);
    expect(mean(run.perSecond.slice(34, 40))).toBeGreaterThanOrEqual(37.5);
    expect(run.refusals).toBeLessThanOrEqual(60);
  });

  it('a fast consumer: not slower than a fixed pace by more than 5 %', () => {
    const consumer = () => pool(() => 100, 5, 100);
    const fixed = simulate(createStaticPacer({ rate: 200, burst: 1, concurrency: 8 }, 'x', 0), consumer(), 3_000);
    const adaptive = simulate(new AdaptivePacer(limits(200, 8), 0), consumer(), 3_000);
    expect(adaptive.doneAt).toBeLessThanOrEqual(fixed.doneAt * 1.05);
  });
});

describe('adaptive pacer signals', () => {
  /**
   * Sends up to `count` requests 1 ms apart, each answered `latencyMs` after it went (`status`
   * for the last one, 200 for the others); returns the time after the last answer.
   */
  function wave(pacer: AdaptivePacer, t: number, count: number, latencyMs: number, status = 200): number {
    let sent = 0;
    while (sent < count && pacer.tryTake(t + sent)) sent++;
    for (let i = 0; i < sent; i++) {
      pacer.record(answer(i === sent - 1 ? status : 200, latencyMs), t + i + latencyMs);
    }
    return t + sent + latencyMs;
  }

  /** A pacer past slow start at 8 at once (its ceiling), answers taking 10 ms. */
  function warmedUp(): { pacer: AdaptivePacer; t: number } {
    const pacer = new AdaptivePacer(limits(1000, 8), 0, { rate: 1000, concurrency: 8 });
    let t = 0;
    for (let i = 0; i < 100; i++) t = wave(pacer, t, 8, 10) + 1;
    expect(pacer.concurrency).toBe(8);
    return { pacer, t };
  }

  it('a 429 at no-load latency while the rate holds sending back cuts the rate (a limiter), not the concurrency', () => {
    const pacer = new AdaptivePacer(limits(100, 8), 0, { rate: 20, concurrency: 8 });
    // Always something to send: every millisecond the pacer is asked, and answers take 2 ms.
    let t = 0;
    for (; t < 3_000; t++) {
      if (pacer.tryTake(t)) pacer.record(answer(200, 2), t + 2);
      else pacer.msUntilNext(t);
    }
    const [rate, concurrency] = [pacer.rate!, pacer.concurrency];
    expect(pacer.tryTake(t + 1_000)).toBe(true);
    pacer.record(answer(429, 2), t + 1_002);
    expect(pacer.rate!).toBeLessThan(rate * 0.8);
    expect(pacer.concurrency).toBe(concurrency);
    expect(pacer.status).toMatchObject({ mode: 'backing_off', signal: '429', signalAt: t + 1_002 });
  });

  it('503s from a pool whose answers slow down cut the concurrency (a queue inside), not the rate', () => {
    const pacer = new AdaptivePacer(limits(500, 32), 0);
    const run = simulate(
      pacer,
      pool(() => 4, 100, 4),
      200,
    );
    expect(run.refusals).toBeGreaterThan(0);
    expect(pacer.concurrency).toBeLessThanOrEqual(12);
    expect(pacer.rate!).toBeGreaterThanOrEqual(100); // well above the 40/s the pool takes: not what held it back
  });

  it('a timeout cuts both; answers to requests sent before a cut do not cut again', () => {
    const { pacer, t } = warmedUp();
    for (let i = 0; i < 4; i++) pacer.tryTake(t + i);
    pacer.record(answer(undefined, 5_000, 'timeout'), t + 5_000);
    const [rate, concurrency] = [pacer.rate!, pacer.concurrency];
    expect(concurrency).toBeLessThan(8);
    expect(pacer.status.signal).toBe('timeout');
    pacer.record(answer(undefined, 5_000, 'timeout'), t + 5_001);
    pacer.record(answer(429, 4_000), t + 5_002);
    expect([pacer.rate, pacer.concurrency]).toEqual([rate, concurrency]);
  });

  it('a burst of 5xx cuts the pace; a lone 500 does not', () => {
    const lone = warmedUp();
    const before = [lone.pacer.rate, lone.pacer.concurrency];
    lone.pacer.tryTake(lone.t);
    lone.pacer.record(answer(500, 10), lone.t + 10);
    steadyAnswers(lone.pacer, lone.t + 20, 40, 10, 20);
    expect(lone.pacer.rate!).toBeGreaterThanOrEqual(before[0]!);
    expect(lone.pacer.status.signal).not.toBe('5xx');

    const burst = warmedUp();
    let at = burst.t;
    for (let i = 0; i < 12; i++, at += 60) {
      burst.pacer.tryTake(at);
      burst.pacer.record(answer(502, 10), at + 10);
    }
    expect(burst.pacer.status.signal).toBe('5xx');
    expect(burst.pacer.rate!).toBeLessThan(before[0]!);
  });

  it('answers slower than the no-load latency keep the concurrency near the pool, with no refusal at all', () => {
    const pacer = new AdaptivePacer(limits(500, 32), 0);
    // 2 workers, 50 ms each, a queue as long as anything we send: only the latency tells.
    const run = simulate(
      pacer,
      pool(() => 2, 50, 1_000),
      400,
    );
    expect(run.refusals).toBe(0);
    expect(pacer.concurrency).toBeLessThanOrEqual(8);
    expect(run.doneAt).toBeLessThanOrEqual((400 / 40) * 1000 * 1.25);
  });
});

describe('adaptive pacer start and restart', () => {
  it('starts from half a learned pace in slow start, not at the ceilings', () => {
    const pacer = new AdaptivePacer(limits(100, 16), 0, { rate: 8, concurrency: 4 });
    expect(pacer.rate).toBe(4);
    expect(pacer.concurrency).toBe(2);
    expect(pacer.status).toMatchObject({ mode: 'slow_start', signal: 'restored' });
  });

  it('a learned pace above today’s ceilings is cut to them', () => {
    const pacer = new AdaptivePacer(limits(10, 2), 0, { rate: 80, concurrency: 40 });
    expect(pacer.rate!).toBeLessThanOrEqual(10);
    expect(pacer.concurrency).toBeLessThanOrEqual(2);
  });

  it('without a ceiling the rate is not limited until the consumer refuses', () => {
    const pacer = new AdaptivePacer(limits(undefined, 4), 0);
    expect(pacer.rate).toBeUndefined();
    expect(pacer.affordable(0, 1_000)).toBe(Infinity);
    for (let i = 0; i < 20; i++) pacer.tryTake(i);
    pacer.record(answer(429, 1), 30);
    expect(pacer.rate).toBeGreaterThanOrEqual(1);
  });

  it('after an idle spell, and after resume, it slow-starts again from half its pace', () => {
    const pacer = new AdaptivePacer(limits(100, 8), 0, { rate: 40, concurrency: 8 });
    const t = steadyAnswers(pacer, 0, 300, 5, 20);
    expect(pacer.mode).not.toBe('slow_start');
    const rate = pacer.rate!;
    expect(pacer.tryTake(t + IDLE_MS)).toBe(true);
    expect(pacer.mode).toBe('slow_start');
    expect(pacer.rate).toBeCloseTo(rate / 2);
    expect(pacer.status.signal).toBe('idle');

    const other = new AdaptivePacer(limits(100, 8), 0, { rate: 40, concurrency: 8 });
    const t2 = steadyAnswers(other, 0, 300, 5, 20);
    const rate2 = other.rate!;
    other.resume(t2);
    expect(other.mode).toBe('slow_start');
    expect(other.rate).toBeCloseTo(rate2 / 2);
  });
});
