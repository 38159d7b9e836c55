/**
 * Consumers modelled in simulated time, for unit tests of pacers: a rate limiter like nginx's
 * `limit_req` and a worker pool with a queue. `simulate` drives a pacer the way the delivery loop
 * does (a request goes out when a slot is free and the pacer allows it), one millisecond at a time.
 */
import type { Pacer } from '../../../src/delivery/pacing/pacer.js';

/** What a consumer answers to a request sent at `t`: a status and when the answer comes. */
export interface ModelConsumer {
  handle(t: number): { status: number; latencyMs: number };
}

/**
 * nginx `limit_req rate=r burst=b` (no `nodelay`): requests beyond the rate wait in a queue of
 * `burst` until their turn; beyond that, 429 at once. `rate` may change with time.
 */
export function limiter(rate: (t: number) => number, burst: number): ModelConsumer {
  let due = 0;
  return {
    handle(t) {
      const interval = 1000 / rate(t);
      if (due <= t) {
        due = t + interval;
        return { status: 200, latencyMs: 1 };
      }
      if ((due - t) / interval > burst) return { status: 429, latencyMs: 1 };
      const wait = due - t;
      due += interval;
      return { status: 200, latencyMs: wait + 1 };
    },
  };
}

/** `workers(t)` workers taking `serviceMs` each, a queue of `queue`, 503 at once beyond. */
export function pool(workers: (t: number) => number, serviceMs: number, queue: number): ModelConsumer {
  let starts: number[] = [];
  return {
    handle(t) {
      const n = workers(t);
      // Requests admitted and not finished: the last n start times in order tell when a worker frees.
      starts = starts.filter((s) => s + serviceMs > t);
      const waiting = starts.filter((s) => s > t).length;
      const busy = starts.length - waiting;
      if (busy < n && waiting === 0) {
        starts.push(t);
        return { status: 200, latencyMs: serviceMs };
      }
      if (waiting >= queue) return { status: 503, latencyMs: 1 };
      // Each worker frees at start + service; the request starts when the n-th latest start frees.
      const sorted = [...starts].sort((a, b) => a - b);
      const start = Math.max(t, sorted[sorted.length - n]! + serviceMs);
      starts.push(start);
      return { status: 200, latencyMs: start - t + serviceMs };
    },
  };
}

export interface Simulation {
  delivered: number;
  refusals: number;
  /** When the last event was delivered (ms from the start). */
  doneAt: number;
  /** Deliveries per whole second. */
  perSecond: number[];
  /** Most requests sent in any 1 s window, and most at the consumer at once. */
  maxSentInSecond: number;
  maxInFlight: number;
}

/** Delivers `events` (a backlog, all due at once) to `consumer` under `pacer`; refused ones are retried after 1 s. */
export function simulate(pacer: Pacer, consumer: ModelConsumer, events: number, limitMs = 600_000): Simulation {
  const answers: { at: number; status: number; latencyMs: number }[] = [];
  const retries: number[] = [];
  const sends: number[] = [];
  let backlog = events;
  let inFlight = 0;
  const result: Simulation = {
    delivered: 0,
    refusals: 0,
    doneAt: 0,
    perSecond: [],
    maxSentInSecond: 0,
    maxInFlight: 0,
  };
  for (let t = 0; t < limitMs && result.delivered < events; t++) {
    for (let i = answers.length - 1; i >= 0; i--) {
      const a = answers[i]!;
      if (a.at > t) continue;
      answers.splice(i, 1);
      inFlight -= 1;
      pacer.record({ status: a.status, latencyMs: a.latencyMs, retryAfter: undefined, failure: undefined }, t);
      if (a.status < 300) {
        result.delivered += 1;
        result.doneAt = t;
        const second = Math.floor(t / 1000);
        result.perSecond[second] = (result.perSecond[second] ?? 0) + 1;
      } else {
        result.refusals += 1;
        retries.push(t + 1_000);
      }
    }
    while (retries.length > 0 && retries[0]! <= t) {
      retries.shift();
      backlog += 1;
    }
    while (backlog > 0 && inFlight < pacer.concurrency) {
      if (!pacer.tryTake(t)) {
        pacer.msUntilNext(t);
        break;
      }
      backlog -= 1;
      inFlight += 1;
      sends.push(t);
      result.maxInFlight = Math.max(result.maxInFlight, inFlight);
      const answer = consumer.handle(t);
      answers.push({ at: t + Math.max(1, Math.round(answer.latencyMs)), ...answer });
    }
  }
  let start = 0;
  for (let end = 0; end < sends.length; end++) {
    while (sends[end]! - sends[start]! >= 1000) start++;
    result.maxSentInSecond = Math.max(result.maxSentInSecond, end - start + 1);
  }
  for (let i = 0; i < result.perSecond.length; i++) result.perSecond[i] ??= 0;
  return result;
}
