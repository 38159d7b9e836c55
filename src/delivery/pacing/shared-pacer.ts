/**
 * A pace kept across several nodes sharing one journal: every request a node sends spends a token
 * it reserved from the destination's bucket in the journal (`Journal.reserveSendTokens`), on top of
 * the node's own pacer (which keeps its local smoothness and concurrency).
 *
 * Why the consumer never sees more than rate + burst in any one-second window, however many nodes
 * drain: the shared bucket hands out at most capacity + rate·T tokens in any interval T, and a node
 * spends a reserved token within `holdMs` of asking for it or drops it (a crash drops them too: the
 * rate is under-used, never exceeded). Sends in a window of 1 s thus spend tokens reserved within
 * 1 s + holdMs: at most capacity + rate·(1 + holdMs). `reservationPlan` picks capacity and holdMs
 * so that this stays within rate + burst (see there), with room, where the burst leaves it, for
 * requests that reach the consumer closer together than their tokens were spent.
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

/** Room kept for the spread between spending a token and the request reaching the consumer, when the burst allows. */
const SPREAD_MS = 25;

/** Longest a reserved token is kept, when the burst leaves room for it. */
const HOLD_MS = 100;

/**
 * Tokens are kept at most `holdMs` (100 ms, or less when the burst is small) and the shared bucket
 * is smaller by what the nodes may spend in that time, ceil(rate·holdMs): then capacity +
 * rate·(1 s + holdMs) ≤ burst + rate. holdMs is at most (burst − 1) / (2·rate), so that the bucket
 * keeps about half the burst and a reservation can take several tokens. With a burst of 1 (the
 * default) nothing can be taken off: the bucket keeps it, and a token must be spent within half
 * the time that the rounding of rate + burst to a whole number of requests leaves over.
 */
export function reservationPlan(rate: number, burst: number): ReservationPlan {
  if (burst >= 2) {
    const holdMs = Math.min(HOLD_MS, ((burst - 1) * 1000) / (2 * rate));
    // The spread takes what the burst leaves over the hold time (a 40/s, burst 5 destination keeps
    // 25 ms; one whose burst is only just enough keeps none).
    for (const spreadMs of [SPREAD_MS, 0]) {
      const held = Math.ceil((rate * (holdMs + spreadMs)) / 1000);
      if (burst - held >= 1 || spreadMs === 0)
        return { capacity: burst - held, holdMs, batch: Math.max(1, Math.min(burst - held, held)), spreadMs };
    }
  }
  const slack = Math.floor(rate + burst) + 1 - (rate + burst);
  return { capacity: burst, holdMs: (0.5 * slack * 1000) / rate, batch: 1, spreadMs: 0 };
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
    let granted = 0;
    let expiresAt = 0;
    let asking = false;
    /** No asking before this (the bucket was empty, or the journal failed). */
    let quietUntil = 0;

    /**
     * Reserves only when the local pacer would send now, and only what it can spend within the hold
     * time: a reserved token that expires unspent is lost to every node, so a node whose own
     * (adaptive) pacer has backed off would otherwise drain the cluster's rate.
     */
    const ask = (at: number) => {
      if (asking || at < quietUntil || local.msUntilNext(at) > 0) return;
      const want = Math.max(1, Math.min(plan.batch, Math.floor(local.affordable(at, plan.holdMs))));
      asking = true;
      const started = clock();
      reserve(name, want, { rate, capacity: plan.capacity }).then(
        (taken) => {
          granted = taken;
          expiresAt = started + plan.holdMs;
          // Empty: the next token is a refill away.
          if (taken === 0) quietUntil = clock() + Math.max(2, Math.ceil(1000 / rate / 2));
          asking = false;
        },
        (error: unknown) => {
          asking = false;
          quietUntil = clock() + 500;
          onError?.(error, name);
        },
      );
    };
    const usable = (at: number) => {
      if (granted > 0 && at >= expiresAt) granted = 0; // dropped: spending it now could exceed the pace
      return granted;
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
        granted--;
        if (granted === 0) ask(at);
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
