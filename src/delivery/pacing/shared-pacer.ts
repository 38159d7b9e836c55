/**
 * A pace kept across several nodes sharing one journal: every request a node sends spends a token
 * it reserved from the destination's bucket in the journal (`Journal.reserveSendTokens`), on top of
 * the node's own pacer (which keeps its local smoothness and concurrency).
 *
 * Why the consumer never sees more than rate + burst in any one-second window, however many nodes
 * drain: the shared bucket refills at `refillRate` (the rate, or a little less), so it hands out at
 * most capacity + refillRate·T tokens in any interval T; a node spends a reserved token within
 * `holdMs` of asking for it or drops it (a crash drops them too: the rate is under-used, never
 * exceeded); and the bound counts on each request reaching the consumer within `spreadMs` of spending
 * its token (room for requests that arrive closer together than their tokens were spent). The
 * requests at the consumer in a window of 1 s thus spent tokens reserved within 1 s + holdMs +
 * spreadMs: at most capacity + refillRate·(1 s + holdMs + spreadMs), which `reservationPlan` keeps
 * within rate + burst in whole requests (see there).
 *
 * An adaptive destination (`adaptive:`) keeps its adaptive pacer as the node's own: the shared bucket
 * holds the cluster to the configured rate, the ceiling, and each node's pacer learns below it from
 * the answers it gets. Every node sees the consumer's refusals once their sum is too much, so each
 * settles near its share; the pace kept in the journal is thus one node's (whichever saved last).
 */
import type { Journal } from '../../journal/port.js';
import { createPacer } from './create-pacer.js';
import type { Pacer, PacerFactory } from './pacer.js';

/** How a destination's shared bucket is cut. */
export interface ReservationPlan {
  /** The shared bucket's capacity. */
  capacity: number;
  /** What it refills at: the rate, or a little less when the burst leaves no room (see `reservationPlan`). */
  refillRate: number;
  /** How long a reserved token may wait to be spent (ms, counted from asking). */
  holdMs: number;
  /** Tokens asked for at once. */
  batch: number;
  /**
   * Room left for requests to reach the consumer closer together than their tokens were spent (a
   * busy event loop, a connection opening): the window is kept for 1 s + holdMs + spreadMs.
   */
  spreadMs: number;
}

/** Room kept for the spread between spending a token and the request reaching the consumer. */
const SPREAD_MS = 25;

/** Longest a reserved token is kept, when the burst leaves room for it. */
const HOLD_MS = 100;

/**
 * Shortest hold worth having: a reservation is a database round trip (with a synchronous commit), and
 * a token that expires before the answer comes back is lost. With holds down to 0.5 ms, one node at
 * 1000/s with a burst of 1 drained 40/s, at 200/s 39/s.
 */
const MIN_HOLD_MS = 20;

/**
 * Tokens are kept at most `holdMs` and the shared bucket is smaller by what the nodes may spend in
 * that time, so that capacity + refillRate·(1 s + holdMs + spreadMs) ≤ rate + burst (in whole
 * requests). Three cases:
 * - a burst with room (≥ 2): the whole rate; holdMs is at most (burst − 1) / (2·rate), so that the
 *   bucket keeps about half the burst and a reservation can take several tokens, and the spread
 *   takes what the burst leaves over it;
 * - a burst of 1 at a low rate: the bucket keeps it, and a token must be spent within half the time
 *   that the rounding of rate + burst to a whole number of requests leaves over;
 * - a burst too small for tokens to outlive a round trip at this rate (1000/s with a burst of 1 leaves
 *   0.5 ms): the bucket holds MIN_HOLD_MS of the rate (2 tokens at least, so that the next reservation
 *   can be asked for while one is spent) and refills a little below the rate, what keeps the window
 *   (938/s for 1000/s, burst 1; 94.7/s for 100/s; 46.9/s for 50/s).
 */
export function reservationPlan(rate: number, burst: number): ReservationPlan {
  if (burst >= 2) {
    const holdMs = Math.min(HOLD_MS, ((burst - 1) * 1000) / (2 * rate));
    if (holdMs >= MIN_HOLD_MS) {
      for (const spreadMs of [SPREAD_MS, 0]) {
        const held = Math.ceil((rate * (holdMs + spreadMs)) / 1000);
        if (burst - held >= 1 || spreadMs === 0)
          return {
            capacity: burst - held,
            refillRate: rate,
            holdMs,
            batch: Math.max(1, Math.min(burst - held, held)),
            spreadMs,
          };
      }
    }
  } else {
    const slack = Math.floor(rate + burst) + 1 - (rate + burst);
    const holdMs = (0.5 * slack * 1000) / rate;
    if (holdMs >= MIN_HOLD_MS) return { capacity: burst, refillRate: rate, holdMs, batch: 1, spreadMs: 0 };
  }
  const most = Math.floor(rate + burst);
  const stretch = 1 + (MIN_HOLD_MS + SPREAD_MS) / 1000;
  const capacity = Math.max(1, Math.min(Math.floor(most / 4), Math.max(2, Math.ceil((rate * MIN_HOLD_MS) / 1000))));
  return {
    capacity,
    // A hair under the exact bound, so that floating point cannot round the window up a request.
    refillRate: ((most - capacity) / stretch) * (1 - 1e-9),
    holdMs: MIN_HOLD_MS,
    batch: capacity,
    spreadMs: SPREAD_MS,
  };
}

/** Makes pacers that keep to the destination's rate across every node of `journal`. */
export function sharedPacerFactory(
  reserve: NonNullable<Journal['reserveSendTokens']>,
  inner: PacerFactory = createPacer,
  clock: () => number = Date.now,
  onError?: (error: unknown, destination: string) => void,
): PacerFactory {
  return (destination, name, now, context): Pacer => {
    // The context carries an adaptive pacer's learned pace and its reports: the local pacer's.
    const local = inner(destination, name, now, context);
    if (destination.rate === undefined) return local;
    const rate = destination.rate;
    const plan = reservationPlan(rate, destination.burst);
    /** Reserved tokens not spent yet, by reservation, oldest first: each expires `holdMs` after it was asked for. */
    const held: { count: number; expiresAt: number }[] = [];
    let asking = false;
    /** No asking before this (the bucket was empty, or the journal failed). */
    let quietUntil = 0;

    /** Tokens held and not expired; expired ones are dropped: spending them now could exceed the pace. */
    const usable = (at: number) => {
      while (held.length > 0 && (held[0]!.count === 0 || at >= held[0]!.expiresAt)) held.shift();
      let n = 0;
      for (const r of held) n += r.count;
      return n;
    };

    /**
     * Reserves only what the local pacer can spend within the hold time, beyond what is held: a
     * reserved token that expires unspent is lost to every node, so a node whose own (adaptive) pacer
     * has backed off would otherwise drain the cluster's rate. The next reservation is asked for once
     * half of the last one is spent, so that sending does not stop for each round trip.
     */
    const ask = (at: number) => {
      if (asking || at < quietUntil) return;
      const have = usable(at);
      if (have > Math.floor(plan.batch / 2) || (have === 0 && local.msUntilNext(at) > 0)) return;
      const want = Math.min(plan.batch, Math.floor(local.affordable(at, plan.holdMs)) - have);
      if (want < 1) return;
      asking = true;
      const started = clock();
      reserve(name, want, { rate: plan.refillRate, capacity: plan.capacity }).then(
        (taken) => {
          if (taken > 0) held.push({ count: taken, expiresAt: started + plan.holdMs });
          // Empty: the next token is a refill away.
          else quietUntil = clock() + Math.max(2, Math.ceil(1000 / plan.refillRate / 2));
          asking = false;
        },
        (error: unknown) => {
          asking = false;
          quietUntil = clock() + 500;
          onError?.(error, name);
        },
      );
    };

    const pacer: Pacer = {
      get rate() {
        return local.rate;
      },
      get status() {
        return local.status;
      },
      get concurrency() {
        return local.concurrency;
      },
      tryTake(at) {
        if (usable(at) === 0) {
          ask(at);
          return false;
        }
        if (!local.tryTake(at)) return false;
        held[0]!.count -= 1;
        ask(at);
        return true;
      },
      msUntilNext(at) {
        const localWait = local.msUntilNext(at);
        if (usable(at) > 0 || localWait > 0) return localWait;
        ask(at);
        return Math.max(1, quietUntil - at, asking ? 2 : 1);
      },
      affordable: (at, horizonMs) => local.affordable(at, horizonMs),
      record: (sample, at) => local.record(sample, at),
      // No `restore`: the shared bucket outlives every node, so what was sent before this start is
      // already out of it.
    };
    if (local.resume) pacer.resume = (at) => local.resume!(at);
    return pacer;
  };
}
