/**
 * The destination loop on fake timers: an in-memory journal, a consumer without a network, and
 * Date.now and setTimeout under vitest's control, so that pacing, holds, the breaker, pause and
 * the loop's modes are checked to the millisecond without waiting for them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configSchema, type DestinationConfig } from '../../src/config/schema.js';
import { DestinationLoop } from '../../src/delivery/destination-loop.js';
import { canTransition, type DestinationMode, ModeTransitionError } from '../../src/delivery/destination-mode.js';
import type { Pacer, PaceSample } from '../../src/delivery/pacing/pacer.js';
import { type Scheduler, type SchedulerOptions, startScheduler } from '../../src/delivery/scheduler.js';
import { type AttemptEvent, createGatewayEvents, type GatewayEventMap } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { type FakeAnswer, type FakeConsumer, fakeConsumer } from '../helpers/fake-consumer.js';
import { createMemoryJournal, type MemoryJournal } from '../helpers/memory-journal.js';

const T0 = Date.UTC(2030, 0, 1);
type ModeChange = GatewayEventMap['destination:mode'][0] & { at: number };

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function destination(config: Record<string, unknown>): DestinationConfig {
  return configSchema.parse({
    destinations: { crm: { url: 'http://consumer.test/hook', ...config } },
    sources: { shop: { path: '/in/shop', to: 'crm' } },
  }).destinations.crm!;
}

interface Running {
  scheduler: Scheduler;
  journal: MemoryJournal;
  consumer: FakeConsumer;
  modes: ModeChange[];
  attempts: AttemptEvent[];
  /** Stops the scheduler, moving the fake timers through its grace period. */
  stop(): Promise<void>;
}

/** Starts a scheduler with one destination `crm` holding `events` pending deliveries, due now. */
function start(
  config: Record<string, unknown>,
  answer: (claim: unknown, request: number) => FakeAnswer,
  events: number,
  options: Partial<SchedulerOptions> = {},
): Running {
  const journal = createMemoryJournal();
  for (let i = 0; i < events; i++) journal.add('crm', T0);
  const consumer = fakeConsumer(answer);
  const bus = createGatewayEvents();
  const modes: ModeChange[] = [];
  const attempts: AttemptEvent[] = [];
  bus.on('destination:mode', (change) => modes.push({ ...change, at: Date.now() }));
  bus.on('delivery:attempt', (attempt) => attempts.push(attempt));
  const scheduler = startScheduler({
    destinations: { crm: destination(config) },
    journal,
    logger: silentLogger(),
    createClient: consumer.createClient,
    events: bus,
    random: () => 0, // backoff = retry.initial exactly
    ...options,
  });
  return {
    scheduler,
    journal,
    consumer,
    modes,
    attempts,
    async stop() {
      const stopped = scheduler.stop(1_000);
      await vi.advanceTimersByTimeAsync(1_000);
      await stopped;
    },
  };
}

const ok = (delayMs = 0): FakeAnswer => ({ status: 200, delayMs });
const delivered = (journal: MemoryJournal) => journal.deliveries.filter((d) => d.status === 'delivered').length;

/** Most requests inside any window of `ms` (sliding, anchored at each request). */
function maxInWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Each mode change starts where the last one ended, and is one the transition table allows. */
function expectChained(modes: ModeChange[], initial: DestinationMode): void {
  let at = initial;
  for (const change of modes) {
    expect(change.from, `${change.from} → ${change.to} (${change.reason})`).toBe(at);
    expect(canTransition(change.from, change.to), `${change.from} → ${change.to}`).toBe(true);
    at = change.to;
  }
}

/** Nothing is left leased: every delivery is finished or pending, with one attempt recorded per attempt counted. */
function expectNoLeaseLeft(journal: MemoryJournal): void {
  for (const d of journal.deliveries) {
    expect(d.status).not.toBe('in_flight');
    expect(d.attempts).toBe(d.attemptLog.length);
  }
}

describe('destination loop: pacing', () => {
  it('never sends more than rate + burst in any window (20/s, burst 1): 60 requests over 2.95 s', async () => {
    const run = start({ rate: '20/s', burst: 1, concurrency: 8 }, () => ok(5), 60);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivered(run.journal)).toBe(60);
    const times = run.consumer.requests.map((r) => r.at);
    expect(times).toHaveLength(60);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(2_950);
    expect(maxInWindow(times, 1_000)).toBeLessThanOrEqual(21);
    expect(maxInWindow(times, 100)).toBeLessThanOrEqual(3);
    expectChained(run.modes, 'running');
    await run.stop();
  });

  it('lets a burst through at once, then one request per token (2/s, burst 5)', async () => {
    const run = start({ rate: '2/s', burst: 5, concurrency: 10 }, () => ok(), 7);
    await vi.advanceTimersByTimeAsync(3_000);
    const times = run.consumer.requests.map((r) => r.at - T0);
    expect(times.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(times[5]).toBeGreaterThanOrEqual(500);
    expect(times[6]).toBeGreaterThanOrEqual(1_000);
    expect(times[6]).toBeLessThan(1_100); // and not much later: the loop waits for the token, not a poll
    await run.stop();
  });

  it('a paced fifo destination sends at its rate, not at the idle poll', async () => {
    const run = start({ rate: '1/s', ordering: 'fifo' }, () => ok(10), 4);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(run.consumer.requests.map((r) => r.at - T0)).toEqual([0, 1_000, 2_000, 3_000]);
    await run.stop();
  });

  it('releases, never sends, a claim whose lease the journal no longer confirms', async () => {
    const run = start({ concurrency: 4 }, () => ok(5), 3);
    // The first three claims checked are unconfirmed (renewal failed); claimed again, they are.
    const checked: number[] = [];
    run.journal.leaseConfirmed = (claim) => checked.push(claim.deliveryId) > 3;
    await vi.advanceTimersByTimeAsync(3_000);
    const unconfirmed = checked.slice(0, 3);
    expect(run.journal.released.map((c) => c.deliveryId)).toEqual(unconfirmed);
    expect(run.consumer.requests).toHaveLength(3);
    expect(delivered(run.journal)).toBe(3);
    await run.stop();
  });
  it('never has more requests at the consumer than the concurrency cap', async () => {
    const run = start({ concurrency: 3 }, () => ok(150), 15);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(delivered(run.journal)).toBe(15);
    expect(run.consumer.maxInFlight).toBe(3);
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'running', concurrency: 3, rate: undefined });
    await run.stop();
  });

  it('asks the pacer before each request and tells it every outcome', async () => {
    let allowed = 0;
    const samples: PaceSample[] = [];
    const pacer: Pacer = {
      rate: 7,
      concurrency: 4,
      tryTake() {
        if (allowed === 0) return false;
        allowed -= 1;
        return true;
      },
      msUntilNext: () => 50,
      affordable: () => 10,
      record: (sample) => void samples.push(sample),
    };
    const answers: FakeAnswer[] = [
      { status: 503, retryAfter: '0', delayMs: 20 },
      { error: 'timeout: no complete answer within 30000 ms', delayMs: 30 },
      { error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9', delayMs: 1 },
    ];
    const run = start({}, (_claim, n) => answers[n - 1] ?? ok(), 3, { createPacer: () => pacer });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run.consumer.requests).toHaveLength(0);
    expect(run.scheduler.state('crm')).toMatchObject({ rate: 7, concurrency: 4 });
    allowed = 3;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run.consumer.requests).toHaveLength(3);
    // In the order the answers came.
    expect(samples).toEqual([
      { status: undefined, latencyMs: 1, retryAfter: undefined, failure: 'connection' },
      { status: 503, latencyMs: 20, retryAfter: run.consumer.requests[0]!.at + 20, failure: undefined },
      { status: undefined, latencyMs: 30, retryAfter: undefined, failure: 'timeout' },
    ]);
    await run.stop();
  });
});

describe('destination loop: a failure while taking in an answer', () => {
  it('still frees the slot and goes on, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pacer: Pacer = {
        rate: undefined,
        concurrency: 1,
        tryTake: () => true,
        msUntilNext: () => 0,
        affordable: () => Number.POSITIVE_INFINITY,
        record() {
          throw new Error('a pacer bug');
        },
      };
      const run = start({ concurrency: 1 }, () => ok(), 3, { createPacer: () => pacer });
      await vi.advanceTimersByTimeAsync(1_000);
      // One slot: each request waited for the previous one's slot, so a lost slot would stop at 1.
      expect(run.consumer.requests).toHaveLength(3);
      expect(run.journal.deliveries.filter((d) => d.status === 'delivered')).toHaveLength(3);
      await run.stop();
      await new Promise((resolve) => process.nextTick(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('destination loop: Retry-After', () => {
  it('holds the whole destination until the time the consumer asked for, then runs again', async () => {
    const run = start({ concurrency: 1 }, (_claim, n) => (n === 1 ? { status: 429, retryAfter: '2' } : ok()), 5);
    await vi.advanceTimersByTimeAsync(100);
    expect(run.consumer.requests).toHaveLength(1);
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'held', heldUntil: T0 + 2_000, heldBy: 'retry_after' });
    expect(run.journal.holds).toEqual([{ destination: 'crm', until: T0 + 2_000 }]);
    await vi.advanceTimersByTimeAsync(1_899); // T0 + 1999
    expect(run.consumer.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(delivered(run.journal)).toBe(5);
    expect(run.consumer.requests[1]!.at).toBe(T0 + 2_000);
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'running', heldUntil: undefined, heldBy: undefined });
    expect(run.modes.map(({ from, to, at }) => [from, to, at])).toEqual([
      ['running', 'held', T0],
      ['held', 'running', T0 + 2_000],
    ]);
    await run.stop();
  });

  it('gives back what it claimed ahead when a hold comes, uncounted', async () => {
    const run = start({ concurrency: 1 }, (_claim, n) => (n === 4 ? { status: 503, retryAfter: '5' } : ok(20)), 50);
    await vi.advanceTimersByTimeAsync(200);
    // The slot of the 4th is refilled as soon as it is answered, before its 503 is decided: one more goes out.
    expect(run.consumer.requests).toHaveLength(5);
    expect(run.scheduler.state('crm')?.mode).toBe('held');
    expect(run.journal.released.length).toBeGreaterThan(0);
    expectNoLeaseLeft(run.journal);
    await run.stop();
  });
});

describe('destination loop: circuit breaker', () => {
  it('holds a consumer that does not answer, probes it one request at a time, and closes once it answers', async () => {
    let up = false;
    const run = start(
      { concurrency: 4, retry: { initial: '100ms', max: '400ms', max_attempts: 1000 } },
      () => (up ? ok(30) : { error: 'ECONNREFUSED: connect ECONNREFUSED', delayMs: 1 }),
      20,
    );
    await vi.advanceTimersByTimeAsync(150);
    const opened = run.modes.find((m) => m.to === 'held');
    expect(opened).toMatchObject({ from: 'running', reason: 'consumer unreachable' });
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'held', heldBy: 'unreachable' });
    run.consumer.resetMax();
    const before = run.consumer.requests.length;

    await vi.advanceTimersByTimeAsync(3_000);
    // Without the breaker each of the 20 events is retried every 100 ms: hundreds of requests.
    // With it: one probe after 100, 200, then every 400 ms.
    expect(run.consumer.requests.length - before).toBeLessThanOrEqual(10);
    expect(run.consumer.maxInFlight).toBe(1);
    expect(run.modes.some((m) => m.from === 'held' && m.to === 'probing')).toBe(true);

    up = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(delivered(run.journal)).toBe(20);
    expect(run.modes.find((m) => m.to === 'running' && m.from === 'probing')).toMatchObject({
      reason: 'consumer answering again',
    });
    expect(run.consumer.maxInFlight).toBe(4);
    expectChained(run.modes, 'running');
    await run.stop();
  });
});

describe('destination loop: pause and resume', () => {
  it('claims and sends nothing while paused, gives back what it claimed ahead, and delivers it all after resume', async () => {
    const run = start({ concurrency: 2 }, () => ok(50), 100);
    await vi.advanceTimersByTimeAsync(300);
    expect(run.consumer.requests.length).toBeGreaterThan(0);
    expect(run.journal.deliveries.filter((d) => d.status === 'in_flight').length).toBeGreaterThan(2);

    await run.scheduler.pause('crm');
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'paused', paused: true });
    expect(run.journal.paused.has('crm')).toBe(true);
    await vi.advanceTimersByTimeAsync(60); // in-flight attempts finish
    const sent = run.consumer.requests.length;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(run.consumer.requests).toHaveLength(sent);
    expect(run.journal.released.length).toBeGreaterThan(0);
    expectNoLeaseLeft(run.journal);

    await run.scheduler.resume('crm');
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'running', paused: false });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivered(run.journal)).toBe(100);
    expect(run.modes.map((m) => [m.from, m.to, m.reason])).toEqual([
      ['running', 'paused', 'paused by the operator'],
      ['paused', 'running', 'resumed by the operator'],
    ]);
    await run.stop();
  });

  it('starts paused when the journal says so, and resumes into a hold that still runs', async () => {
    const run = start({}, () => ok(), 3, { paused: ['crm'], held: { crm: T0 + 10_000 } });
    await vi.advanceTimersByTimeAsync(6_000);
    expect(run.consumer.requests).toHaveLength(0);
    expect(run.scheduler.state('crm')).toMatchObject({ mode: 'paused', heldUntil: T0 + 10_000 });
    await run.scheduler.resume('crm');
    expect(run.scheduler.state('crm')?.mode).toBe('held');
    await vi.advanceTimersByTimeAsync(3_999);
    expect(run.consumer.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(run.consumer.requests).toHaveLength(3);
    expect(run.consumer.requests[0]!.at).toBe(T0 + 10_000);
    expectChained(run.modes, 'paused');
    await run.stop();
  });
});

describe('destination loop: modes', () => {
  it('the transition table: stopping is final, and no mode changes to itself', () => {
    const modes: DestinationMode[] = ['running', 'held', 'probing', 'paused', 'stopping'];
    for (const mode of modes) {
      expect(canTransition(mode, mode)).toBe(false);
      expect(canTransition('stopping', mode)).toBe(false);
      if (mode !== 'stopping') expect(canTransition(mode, 'stopping')).toBe(true);
    }
    expect(canTransition('paused', 'held')).toBe(true);
    expect(canTransition('held', 'probing')).toBe(true);
  });

  it('stopping gives back what was claimed ahead, ignores a late pause, and a forbidden change throws', async () => {
    const journal = createMemoryJournal();
    for (let i = 0; i < 50; i++) journal.add('crm', T0);
    const consumer = fakeConsumer(() => ok(100));
    const bus = createGatewayEvents();
    const modes: ModeChange[] = [];
    bus.on('destination:mode', (change) => modes.push({ ...change, at: Date.now() }));
    const options = { destinations: {}, journal, logger: silentLogger(), createClient: consumer.createClient };
    const attempts = new AbortController();
    const loop = new DestinationLoop('crm', destination({ concurrency: 2 }), options, bus, attempts.signal);
    const stop = new AbortController();
    const running = loop.run(stop.signal);
    await vi.advanceTimersByTimeAsync(350);
    expect(journal.deliveries.filter((d) => d.status === 'in_flight').length).toBeGreaterThan(2);

    stop.abort();
    expect(loop.mode).toBe('stopping');
    await running;
    await vi.advanceTimersByTimeAsync(100);
    await loop.idle();
    expectNoLeaseLeft(journal);
    expect(journal.released.length).toBeGreaterThan(0);
    expect(modes.map((m) => [m.from, m.to, m.reason])).toEqual([['running', 'stopping', 'shutdown']]);

    loop.pause(); // an operator's pause during shutdown: recorded by the journal, nothing for the loop to do
    expect(loop.mode).toBe('stopping');
    // The loop's mode control is private: reached here only to show that a change the table forbids is refused.
    const { control } = loop as unknown as { control: { setMode(to: DestinationMode, reason: string): void } };
    const setMode = control.setMode.bind(control);
    expect(() => setMode('running', 'test')).toThrow(ModeTransitionError);
    expect(loop.mode).toBe('stopping');
  });
});
