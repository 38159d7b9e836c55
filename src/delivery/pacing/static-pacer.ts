/**
 * The pace set in the config: a token bucket for `rate` and `burst` (no `rate`: unlimited) and
 * `concurrency` requests at once. Outcomes change nothing; recent sends of an earlier process
 * (`restore`) take their tokens out of the bucket.
 */
import type { DestinationConfig } from '../../config/schema.js';
import type { Pacer } from './pacer.js';
import { TokenBucket } from './token-bucket.js';

/** A pacer that keeps to the destination's configured `rate`, `burst` and `concurrency`. */
export function createStaticPacer(
  destination: Pick<DestinationConfig, 'rate' | 'burst' | 'concurrency'>,
  _name: string,
  now: number,
): Pacer {
  const { rate, burst, concurrency } = destination;
  if (rate === undefined) {
    return {
      rate: undefined,
      concurrency,
      tryTake: () => true,
      msUntilNext: () => 0,
      affordable: () => Infinity,
      record() {},
    };
  }
  const bucket = new TokenBucket(rate, burst, now);
  return {
    rate,
    concurrency,
    tryTake: (at) => bucket.tryTake(at),
    msUntilNext: (at) => bucket.msUntilToken(at),
    // What the bucket holds now, plus what it refills within the horizon.
    affordable: (at, horizonMs) => bucket.available(at) + Math.floor((rate * horizonMs) / 1000),
    record() {},
    // Sends within one refill of the bucket before this start still count: the bucket starts with
    // max(0, burst - n) tokens. Any interval across the restart then keeps to burst + rate·T, since
    // the sends before it already did.
    historyMs: bucket.refillMs,
    restore: (sent, at) => bucket.drain(sent, at),
  };
}
